# MLA on IEMOCAP, the joint config's encoders with one linear head shared by
# all modalities (the settings of mla_resnet18_avdigits.py), on the BB schedule
# of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/mla/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_mlp_transformer_iemocap.py'
model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    balancer=dict(
        _delete_=True,
        type='MLABalancer',
        projection=True,  # the paper's --gs_flag
        alpha=0.1,  # the code's: alpha_t = 0.1^(1 + batch_idx / len(loader))
        code_parity=False,  # scalar OWM denominator, not the official one
        inference='entropy'))  # the paper's --dynamic test-time fusion
# Sets the test-time combination and tells the balancer the epoch length.
custom_hooks = [dict(type='MLAHook')]

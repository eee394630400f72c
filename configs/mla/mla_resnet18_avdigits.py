# MLA on AV-Digits (audio-dominant preset), width-16 ResNet-18s, one linear
# head shared by both modalities; see configs/mla/README.md for every choice.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    balancer=dict(
        _delete_=True,
        type='MLABalancer',
        projection=True,  # the paper's --gs_flag
        alpha=0.1,  # alpha_t = 0.1^(1 + batch_idx / len(train_dataloader))
        code_parity=False,  # scalar OWM denominator, not the official one
        inference='entropy'))  # the paper's --dynamic test-time fusion
# Sets the test-time combination and tells the balancer the epoch length.
custom_hooks = [dict(type='MLAHook')]

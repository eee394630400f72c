# MLA on IEMOCAP, the joint config's encoders with one linear head shared by
# all modalities (the settings of mla_resnet18_avdigits.py), on the BB schedule
# of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/mla/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/mla.py']
model = _base_.mla_model
custom_hooks = _base_.mla_custom_hooks

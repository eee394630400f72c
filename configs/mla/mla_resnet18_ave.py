# MLA on AVE, the joint config's encoders with one linear head shared by all
# modalities (the settings of mla_resnet18_avdigits.py), on the OGM-GE schedule
# of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/mla/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/mla.py']
model = _base_.mla_model
custom_hooks = _base_.mla_custom_hooks

# DI-MML on UCF-51, on its joint config's encoders and 100-epoch schedule,
# with the CREMA-D values (the official code has no UCF-51 setting). See
# configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_ucf51.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_model
custom_hooks = _base_.dimml_custom_hooks

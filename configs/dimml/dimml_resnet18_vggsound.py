# DI-MML on VGGSound, on its joint config's encoders and 100-epoch schedule,
# with the CREMA-D values (the official code has no VGGSound setting). See
# configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_model
custom_hooks = _base_.dimml_custom_hooks

# DI-MML on CREMA-D, on its joint config's encoders and 100-epoch schedule:
# tau 50, tau_2 1 (the official CREMA-D values). See configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_cremad.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_model
custom_hooks = _base_.dimml_custom_hooks

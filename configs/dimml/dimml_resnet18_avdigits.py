# DI-MML on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, on the 8-epoch schedule: L_DUC from epoch 1, the fusion stage
# in the last two (configs/_base_/methods/dimml.py). CREMA-D's tau 50 and
# tau_2 1. See configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_avdigits_model
custom_hooks = _base_.dimml_custom_hooks

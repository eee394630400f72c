# CML on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, concat fusion; see configs/cml/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/cml.py']
model = _base_.cml_model

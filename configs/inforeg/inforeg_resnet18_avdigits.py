# InfoReg on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, concat fusion; see configs/inforeg/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/inforeg.py']
model = _base_.inforeg_model
custom_hooks = _base_.inforeg_custom_hooks

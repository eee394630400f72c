# MBSD on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, concat fusion; see configs/mbsd/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/mbsd.py']
model = _base_.mbsd_model

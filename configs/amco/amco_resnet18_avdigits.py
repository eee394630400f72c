# AMCo on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, concat fusion, on the 8-epoch schedule (the window from epoch 1,
# configs/_base_/methods/amco.py); see configs/amco/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/amco.py']
model = _base_.amco_avdigits_model

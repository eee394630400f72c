# AMST-ALT on AV-Digits (audio-dominant preset), width-16 ResNet-18s, one
# shared head ('msum'); see configs/amst/README.md for every choice.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/amst.py']
# The dominant audio updates in epochs 0, 2, 4, 6 of 8 (CREMA-D: 5).
model = dict(_base_.amst_alt_model, balancer=dict(
    _base_.amst_alt_model.balancer, skip_factors=dict(audio=2, visual=1)))

# MLA on AV-Digits (audio-dominant preset), width-16 ResNet-18s, one linear
# head shared by both modalities; see configs/mla/README.md for every choice.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/mla.py']
model = _base_.mla_model
custom_hooks = _base_.mla_custom_hooks

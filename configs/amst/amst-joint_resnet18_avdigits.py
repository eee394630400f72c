# AMST-JOINT on AV-Digits (audio-dominant preset), width-16 ResNet-18s,
# concat fusion: in a skipped epoch the audio features take the zero fill.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/amst.py']
model = dict(_base_.amst_joint_model, balancer=dict(
    _base_.amst_joint_model.balancer, skip_factors=dict(audio=2, visual=1)))

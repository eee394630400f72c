# AMST-FULL on AV-Digits (audio-dominant preset): an ALT (shared head) and a
# JOINT (concat) model side by side, each with its own width-16 ResNet-18s;
# logits (M * alt + joint) / (M + 1). Twice the parameters of the others.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/amst.py']
model = dict(_base_.amst_full_model, balancer=dict(
    _base_.amst_full_model.balancer, skip_factors=dict(audio=2, visual=1)))

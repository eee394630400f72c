# AMST-FULL on AV-Digits (audio-dominant preset): an ALT (shared head) and a
# JOINT (concat) model side by side, each with its own width-16 ResNet-18s;
# logits (M * alt + joint) / (M + 1). Twice the parameters of the others.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    type='AMSTFullClassifier',
    alt_fusion=dict(type='SharedHeadFusion'),  # `fusion` is the JOINT model's
    aux_heads=True,
    balancer=dict(
        _delete_=True,
        type='AMSTBalancer',
        variant='FULL',
        skip_factors=dict(audio=2, visual=1)))

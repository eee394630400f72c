# AMST-ALT on AV-Digits (audio-dominant preset), width-16 ResNet-18s, one
# shared head ('msum'); see configs/amst/README.md for every choice.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(
        _delete_=True,
        type='AMSTBalancer',
        variant='ALT',
        # The dominant audio updates in epochs 0, 2, 4, 6 of 8 (CREMA-D: 5).
        skip_factors=dict(audio=2, visual=1)))

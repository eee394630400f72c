# AMST-JOINT on AV-Digits (audio-dominant preset), width-16 ResNet-18s,
# concat fusion: in a skipped epoch the audio features take the zero fill.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(
        _delete_=True,
        type='AMSTBalancer',
        variant='JOINT',
        skip_factors=dict(audio=2, visual=1)))

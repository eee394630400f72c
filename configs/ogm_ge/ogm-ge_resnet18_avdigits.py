# OGM-GE on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat
# fusion. See configs/ogm_ge/README.md for the choices.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    balancer=dict(
        _delete_=True,
        type='OGMGEBalancer',
        alpha=0.8,  # the paper's README value for CREMA-D (audio-dominant)
        mode='OGM-GE',
        # Epochs 0-3 of 8: like the paper's 0-50 of 100, the window covers
        # ~70 % of the learning-rate integral (one-cycle here, StepLR there).
        start_epoch=0,
        end_epoch=4,
        score='decompose'))

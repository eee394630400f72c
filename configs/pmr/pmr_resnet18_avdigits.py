# PMR on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat fusion.
# See configs/pmr/README.md for the defaults and why.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    balancer=dict(
        _delete_=True,
        type='PMRBalancer',
        alpha=2.0,        # official bash.sh (BB: 0.6)
        start_epoch=0,
        end_epoch=6,      # of 8 (official: 70 of 100-130)
        momentum=0.0))    # mu, as bash.sh
# Prototypes before training and after every epoch, from 10 % of the train
# split read with the test pipeline (never the validation split).
custom_hooks = [
    dict(type='PMRHook', fraction=0.1)
]

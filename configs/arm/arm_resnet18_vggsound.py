# ARM on VGGSound, all three components, on the OGM-GE schedule of its joint
# config (SGD lr 1e-3, 100 epochs, StepLR(70)). The settings of
# arm_resnet18_avdigits.py except the warm-up; the paper gives
# none. See configs/arm/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_resnet18_vggsound.py'
# W = 5 epochs (of 100): the 2024 code's warm-up and armlab's
# default (configs/arm/README.md); AV-Digits uses 2 of 8.
warmup_epochs = 5
model = dict(
    balancer=dict(
        _delete_=True,
        type='ARMBalancer',
        # Gentle weights (gamma 0.5, kappa 1.5): the AV-Digits pilot, where
        # the card's gamma 2 / kappa 3 collapsed the weak modality.
        feature_weights=dict(enable=True, source='batch',
                             start_epoch=warmup_epochs, momentum=0.9,
                             gamma=0.5, max_weight=1.5, eps=1e-3),
        minmax_loss=dict(enable=True, start_epoch=0, loss_weight=1.0,
                         temperature=1.0, weighting='smoothmax')))
# 'weighted' keeps the epoch length (and the lr schedule) fixed.
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ResamplingSampler', shuffle=True,
                 mode='weighted'))
custom_hooks = [
    dict(type='ARMHook', warmup_epochs=warmup_epochs, interval=1, subset=0.25,
         resample=dict(enable=True, score='min', rule='tercile', p_mask=1.0))
]

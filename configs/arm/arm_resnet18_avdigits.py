# ARM on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat fusion.
# All three components on; see configs/arm/README.md for every choice.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
warmup_epochs = 2  # of 8: the imbalance forms within the first epochs
model = dict(
    balancer=dict(
        _delete_=True,
        type='ARMBalancer',
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

# ARM (configs/arm/README.md), all three components on: the balancer, the
# re-sampling sampler and the epoch-level hook. A method config names this
# file after its dataset's joint config and states the warm-up W once:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/arm.py']
#     model = dict(balancer=_base_.arm_balancer)
#     train_dataloader = dict(sampler=_base_.arm_sampler)
#     custom_hooks = [dict(_base_.arm_hook, warmup_epochs=W)]
arm_balancer = dict(
    _delete_=True,
    type='ARMBalancer',
    # Gentle weights (gamma 0.5, kappa 1.5): the AV-Digits pilot, where
    # gamma 2 / kappa 3 collapsed the weak modality. start_epoch None: from
    # the hook's warm-up W.
    feature_weights=dict(enable=True, source='batch', start_epoch=None,
                         momentum=0.9, gamma=0.5, max_weight=1.5, eps=1e-3),
    minmax_loss=dict(enable=True, start_epoch=0, loss_weight=1.0,
                     temperature=1.0, weighting='smoothmax'))
# 'weighted' keeps the epoch length (and the lr schedule) fixed.
arm_sampler = dict(_delete_=True, type='ResamplingSampler', shuffle=True,
                   mode='weighted')
arm_hook = dict(
    type='ARMHook', warmup_epochs=5, interval=1, subset=0.25,
    resample=dict(enable=True, score='min', rule='tercile', p_mask=1.0))

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
    # (i) Learning-signal weights alpha from the batch contributions: the
    # fused loss's gradient into each encoder is scaled (the forward is
    # not, so a linear head cannot absorb them). Gentle (gamma 0.5, kappa
    # 1.5) as in the AV-Digits pilot. start_epoch None: the hook's W.
    feature_weights=dict(enable=True, apply='gradient', source='batch',
                         start_epoch=None, momentum=0.9, gamma=0.5,
                         max_weight=1.5, eps=1e-3),
    # (ii) Min-max loss weighted by softmax(-CMI / tau_c) of the hook's
    # epoch valuation, guarded by the dominant modality's MI.
    minmax_loss=dict(enable=True, start_epoch=0, loss_weight=1.0,
                     weighting='cmi', contribution_temperature=0.25,
                     guard=dict(enable=True, tolerance=0.02)))
# 'weighted' keeps the epoch length (and the lr schedule) fixed.
arm_sampler = dict(_delete_=True, type='ResamplingSampler', shuffle=True,
                   mode='weighted')
arm_hook = dict(
    type='ARMHook', warmup_epochs=5, interval=1, subset=0.25,
    resample=dict(enable=True, score='min', rule='tercile', p_mask=1.0))

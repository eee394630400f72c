# Ablation: ARM's dynamic feature-level fusion alone.
_base_ = './arm_resnet18_avdigits.py'
model = dict(balancer=dict(minmax_loss=dict(enable=False)))
custom_hooks = [
    dict(type='ARMHook', warmup_epochs={{_base_.warmup_epochs}}, subset=0.25,
         resample=dict(enable=False))
]

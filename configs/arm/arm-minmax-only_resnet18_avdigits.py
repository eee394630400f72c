# Ablation: ARM's balanced min-max loss alone.
_base_ = './arm_resnet18_avdigits.py'
model = dict(balancer=dict(feature_weights=dict(enable=False)))
custom_hooks = [
    dict(type='ARMHook', warmup_epochs={{_base_.warmup_epochs}}, subset=0.25,
         resample=dict(enable=False))
]

# Ablation: ARM's learning-signal weights alone.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(minmax_loss=dict(enable=False)))
custom_hooks = [dict(_base_.custom_hooks[0], resample=dict(enable=False))]

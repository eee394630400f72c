# Ablation: full ARM without its re-sampling (the epoch valuation still runs:
# it sets the min-max loss weights).
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
custom_hooks = [dict(_base_.custom_hooks[0], resample=dict(enable=False))]

# Ablation: ARM's min-max loss alone (CMI-weighted; the epoch valuation runs
# for its weights, without re-sampling).
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(feature_weights=dict(enable=False)))
custom_hooks = [dict(_base_.custom_hooks[0], resample=dict(enable=False))]

# Ablation: ARM's contribution-driven re-sampling alone.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(feature_weights=dict(enable=False),
                           minmax_loss=dict(enable=False)))

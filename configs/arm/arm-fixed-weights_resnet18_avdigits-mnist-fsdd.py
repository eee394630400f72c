# Control of ARM's learning-signal weights: fixed at 1 (also full ARM without
# them), everything else as full ARM.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(feature_weights=dict(enable=False)))

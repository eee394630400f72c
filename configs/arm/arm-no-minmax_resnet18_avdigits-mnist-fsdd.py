# Ablation: full ARM without its min-max loss.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(minmax_loss=dict(enable=False)))

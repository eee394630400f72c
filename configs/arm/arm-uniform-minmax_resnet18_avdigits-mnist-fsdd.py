# Control of ARM's min-max loss: uniform weights (M * mean_m L_m) instead of
# the epoch CMI's, everything else as full ARM.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(minmax_loss=dict(weighting='uniform')))

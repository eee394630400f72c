# Control of the held-out valuation: the same 90 % of the training pairs, the
# min-max loss with uniform weights (so the held-out values drive nothing).
_base_ = './arm-heldout-valuation_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(minmax_loss=dict(weighting='uniform')))

# Option study: ARM's weights on the fused features (apply='features', the
# earlier definition, which a linear head absorbs) instead of on each
# encoder's learning signal.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
model = dict(balancer=dict(feature_weights=dict(apply='features')))

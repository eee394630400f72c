# ARM on the all-real AV-Digits variant with stronger learning-signal
# weights: gamma 1 (from 0.5) and the cap kappa 3 (from 1.5), so the weak
# modality's gradient can be scaled up to 3x. A validation probe of the
# component that the default settings leave near uniform (configs/arm/README.md).
_base_ = ['./arm_resnet18_avdigits-mnist-fsdd.py']
model = dict(balancer=dict(feature_weights=dict(gamma=1.0, max_weight=3.0)))

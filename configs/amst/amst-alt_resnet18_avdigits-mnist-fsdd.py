# AMST (alternating) on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (amst-alt_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/amst.py']
# The dominant audio updates in epochs 0, 2, 4, 6 of 8 (CREMA-D: 5).
model = dict(_base_.amst_alt_model, balancer=dict(
    _base_.amst_alt_model.balancer, skip_factors=dict(audio=2, visual=1)))

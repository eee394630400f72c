# PMR on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (pmr_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/pmr.py']
# The window: epochs 0-6 of 8 (official: 70 of 100-130).
model = dict(_base_.pmr_model,
             balancer=dict(_base_.pmr_model.balancer, end_epoch=6))
custom_hooks = _base_.pmr_custom_hooks

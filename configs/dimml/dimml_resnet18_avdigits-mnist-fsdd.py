# DI-MML on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (dimml_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_avdigits_model
custom_hooks = _base_.dimml_custom_hooks

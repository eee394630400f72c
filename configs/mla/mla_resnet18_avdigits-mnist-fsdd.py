# MLA on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (mla_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/mla.py']
model = _base_.mla_model
custom_hooks = _base_.mla_custom_hooks

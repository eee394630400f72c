# InfoReg on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (inforeg_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/inforeg.py']
model = _base_.inforeg_model
custom_hooks = _base_.inforeg_custom_hooks

# MBSD on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (mbsd_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/mbsd.py']
model = _base_.mbsd_model

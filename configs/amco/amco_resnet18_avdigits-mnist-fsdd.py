# AMCo on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (amco_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/amco.py']
model = _base_.amco_avdigits_model

# Evidential (TMC) late fusion on the all-real AV-Digits variant (MNIST +
# FSDD speech), the same settings as on the embedded variant.
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/evidential.py']
model = _base_.evidential_model

# Unimodal ensemble on the all-real AV-Digits variant (MNIST + FSDD speech).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/unimodal_ensemble.py']
model = _base_.unimodal_ensemble_model

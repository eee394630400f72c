# OPM on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (opm_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/opm.py']
# One plain epoch of 8: the official six of 100, rounded up.
model = dict(_base_.opm_model,
             balancer=dict(_base_.opm_model.balancer, warmup_epochs=1))

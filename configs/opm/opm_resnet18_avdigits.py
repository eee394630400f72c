# OPM on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, concat fusion; see configs/opm/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/opm.py']
# One plain epoch of 8: the official six of 100, rounded up.
model = dict(_base_.opm_model,
             balancer=dict(_base_.opm_model.balancer, warmup_epochs=1))

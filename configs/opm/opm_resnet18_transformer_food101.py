# OPM on UPMC Food-101 (image + text), concat fusion; see
# configs/opm/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/opm.py']
# Two plain epochs of the 30-epoch schedule: the official six of 100, scaled.
model = dict(_base_.opm_model,
             balancer=dict(_base_.opm_model.balancer, warmup_epochs=2))

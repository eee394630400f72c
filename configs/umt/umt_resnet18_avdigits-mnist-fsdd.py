# UMT on the all-real AV-Digits variant (MNIST + FSDD): teachers are the
# members of the unimodal ensemble trained first with configs/unimodal_ensemble/
# unimodal_ensemble_resnet18_avdigits-mnist-fsdd.py (its default work dir below).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/umt.py']
model = dict(_base_.umt_model, balancer=dict(
    _base_.umt_model.balancer,
    teacher_checkpoint='work_dirs/unimodal_ensemble_resnet18_avdigits-mnist-fsdd'))

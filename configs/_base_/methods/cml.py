# CML (configs/cml/README.md): the joint model's cross-entropy averaged over
# a chain of masked forwards that remove the modalities one at a time in a
# random per-epoch order, plus a hinge on any rise of confidence along the
# chain. A method config names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/cml.py']
#     model = _base_.cml_model
cml_model = dict(
    balancer=dict(
        _delete_=True,
        type='CMLBalancer',
        hinge_weight=0.1,  # lambda, BalanceBenchmark's
        reduction='sample'))  # a hinge per sample ('batch': BB's batch sum)

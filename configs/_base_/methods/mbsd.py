# MBSD (configs/mbsd/README.md): fused and per-modality cross-entropies plus
# the self-distillation of each sample's weaker modality towards its
# stronger one, weighted by their gap on the true class. A method config
# names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/mbsd.py']
#     model = _base_.mbsd_model
mbsd_model = dict(
    balancer=dict(_delete_=True, type='MBSDBalancer', score='decompose'))

# MMCosine (configs/mmcosine/README.md): the joint model with its concat head
# replaced by per-modality cosine logits, z_k = s * sum_m cos(h_m, w_{m,k}),
# no bias. A method config names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/mmcosine.py']
#     model = _base_.mmcosine_model
mmcosine_model = dict(
    # s = 10, the official code's default (BalanceBenchmark uses 15).
    fusion=dict(_delete_=True, type='CosineFusion', scale=10.0))

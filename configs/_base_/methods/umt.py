# UMT (configs/umt/README.md): joint training plus feature distillation from
# frozen uni-modal teachers. A method config names this file after its
# dataset's joint config and says where the teachers are:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/umt.py']
#     model = dict(_base_.umt_model, balancer=dict(
#         _base_.umt_model.balancer, teacher_checkpoint=...))
# teacher_checkpoint: the work dir (or checkpoint) of a unimodal-ensemble run,
# or a dict modality -> unimodal run; train those first.
umt_model = dict(
    balancer=dict(
        _delete_=True,
        type='UMTBalancer',
        teacher_checkpoint=None,
        # BalanceBenchmark's `scaling` on the pooled features (the paper's
        # lambda is not stated in the notes)
        loss_weight=10.0))

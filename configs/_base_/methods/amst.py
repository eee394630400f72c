# AMST (configs/amst/README.md): the model of each variant. A method config
# names this file after its dataset's joint config and gives the dataset's
# skip factors (how often each modality updates), e.g.
#     model = dict(_base_.amst_alt_model, balancer=dict(
#         _base_.amst_alt_model.balancer, skip_factors=skip_factors))
# ALT: the encoders with one shared head ('msum'); fused logits are the mean
# of the unimodal logits, as the official code evaluates them (training runs
# one modality at a time, so it is the same under every rule).
amst_alt_model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion', combine='mean'),
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='ALT'))
# JOINT: the joint config's fusion; a skipped modality's share of the logits
# (its features' and its 1/M of the bias) is left out, as in the official
# code.
amst_joint_model = dict(
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='JOINT'))
# FULL: an ALT (shared head) and a JOINT model side by side, each with its
# own encoders; logits (M * alt + joint) / (M + 1), alt the mean of the
# unimodal logits.
amst_full_model = dict(
    type='AMSTFullClassifier',
    # `fusion` is the JOINT model's.
    alt_fusion=dict(type='SharedHeadFusion', combine='mean'),
    aux_heads=True,
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='FULL'))

# AMST (configs/amst/README.md): the model of each variant. A method config
# names this file after its dataset's joint config and gives the dataset's
# skip factors (how often each modality updates), e.g.
#     model = dict(_base_.amst_alt_model, balancer=dict(
#         _base_.amst_alt_model.balancer, skip_factors=skip_factors))
# ALT: the encoders with one shared head ('msum').
amst_alt_model = dict(
    fusion=dict(_delete_=True, type='SharedHeadFusion'),
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='ALT'))
# JOINT: the joint config's fusion; a skipped modality takes the zero fill.
amst_joint_model = dict(
    aux_heads=True,  # per-modality linear heads on detached features
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='JOINT'))
# FULL: an ALT (shared head) and a JOINT model side by side, each with its
# own encoders; logits (M * alt + joint) / (M + 1).
amst_full_model = dict(
    type='AMSTFullClassifier',
    alt_fusion=dict(type='SharedHeadFusion'),  # `fusion` is the JOINT model's
    aux_heads=True,
    balancer=dict(_delete_=True, type='AMSTBalancer', variant='FULL'))

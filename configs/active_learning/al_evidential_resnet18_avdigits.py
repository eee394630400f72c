# Active learning with evidential (TMC) fusion: the protocol of
# al_joint_resnet18_avdigits.py (same pool, budgets, rounds and epochs) on
# the model of configs/evidential, so that the evidential strategy can read
# the fused uncertainty and conflict of the pool. Random sampling on this
# config is the evidential strategy's reference: strategies compare only on
# the same model and the same round 0.
_base_ = ['./al_joint_resnet18_avdigits.py']
model = dict(
    fusion=dict(
        _delete_=True,
        type='EvidentialFusion',
        evidence='softplus',
        pseudo_view=False,
        annealing_epochs=4,  # KL weight 0, 1/4, 1/2, 3/4, then 1 (of 15)
        loss_form='digamma',
        loss_weight=1.0),
    loss=dict(type='CrossEntropyLoss', loss_weight=0.0))

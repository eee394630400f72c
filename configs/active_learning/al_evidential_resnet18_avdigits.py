# Active learning with evidential (TMC) fusion: the protocol of
# al_joint_resnet18_avdigits.py (same pool, budgets, rounds and epochs) on
# the model of configs/evidential, so that the evidential strategy can read
# the fused uncertainty and conflict of the pool. Random sampling on this
# config is the evidential strategy's reference: strategies compare only on
# the same model and the same round 0.
_base_ = ['./al_joint_resnet18_avdigits.py',
          '../_base_/methods/evidential.py']
model = _base_.evidential_model

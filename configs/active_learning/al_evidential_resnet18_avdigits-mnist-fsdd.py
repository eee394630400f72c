# The evidential (TMC) model on the all-real active-learning protocol of
# al_joint_resnet18_avdigits-mnist-fsdd.py (same pool, budgets, rounds).
_base_ = ['./al_joint_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/evidential.py']
model = _base_.evidential_model

# AMST-FULL on CREMA-D: an ALT (shared head) and a JOINT (concat) model side by
# side, each with the joint config's encoders; logits (M*alt + joint)/(M+1).
# Trained on the OGM-GE schedule of its joint config (SGD lr 1e-3, 100 epochs,
# StepLR(70)). Twice the parameters of the other methods. See
# configs/amst/README.md.
_base_ = ['../joint/joint_concat_resnet18_cremad.py',
          '../_base_/methods/amst.py']
# The paper's CREMA-D factors (CXianRen/AMST Jobs/amst_*.sh):
# audio updates every 5th epoch (0, 5, 10, ...), visual every epoch.
skip_factors = dict(audio=5, visual=1)
model = dict(_base_.amst_full_model, balancer=dict(
    _base_.amst_full_model.balancer, skip_factors=skip_factors))

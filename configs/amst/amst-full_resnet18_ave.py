# AMST-FULL on AVE: an ALT (shared head) and a JOINT (concat) model side by
# side, each with the joint config's encoders; logits (M*alt + joint)/(M+1).
# Trained on the OGM-GE schedule of its joint config (SGD lr 1e-3, 100 epochs,
# StepLR(70)). Twice the parameters of the other methods. See
# configs/amst/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/amst.py']
# The paper's AVE factors (CXianRen/AMST Jobs/amst_*.sh): audio
# updates every 2nd epoch, visual every epoch.
skip_factors = dict(audio=2, visual=1)
model = dict(_base_.amst_full_model, balancer=dict(
    _base_.amst_full_model.balancer, skip_factors=skip_factors))

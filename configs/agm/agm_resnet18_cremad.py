# AGM on CREMA-D, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/agm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_cremad.py',
          '../_base_/methods/agm.py']
# The author's CREMA-D value (lihongcs/AGM #3, #10), used there for
# 1,500 epochs; BB: 0.1. If agm_score_<m> blow up (as BB's 0.1 did on
# AV-Digits at lr 0.05), fall back to 0.1 or 0.05 (README).
model = dict(_base_.agm_model,
             balancer=dict(_base_.agm_model.balancer, alpha=1.5))

# AMST-ALT on AVE: the joint config's encoders with one shared head ('msum'),
# on the OGM-GE schedule of its joint config (SGD lr 1e-3, 100 epochs,
# StepLR(70)). See configs/amst/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/amst.py']
# The paper's AVE factors (CXianRen/AMST Jobs/amst_*.sh): audio
# updates every 2nd epoch, visual every epoch.
skip_factors = dict(audio=2, visual=1)
model = dict(_base_.amst_alt_model, balancer=dict(
    _base_.amst_alt_model.balancer, skip_factors=skip_factors))

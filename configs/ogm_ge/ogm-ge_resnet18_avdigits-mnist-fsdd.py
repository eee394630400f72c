# OGM-GE on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (ogm-ge_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/ogm_ge.py']
# alpha 0.8: the paper's README value for CREMA-D (audio-dominant).
# Epochs 0-3 of 8: like the paper's 0-50 of 100, the window covers
# ~70 % of the learning-rate integral (one-cycle here, StepLR there).
model = dict(_base_.ogm_ge_model,
             balancer=dict(_base_.ogm_ge_model.balancer, end_epoch=4))

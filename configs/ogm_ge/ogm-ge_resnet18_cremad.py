# OGM-GE on CREMA-D, standard ResNet-18s, concat fusion, on the OGM-GE schedule
# of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/ogm_ge/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_cremad.py',
          '../_base_/methods/ogm_ge.py']
# alpha 0.8: the OGM-GE README's value for CREMA-D.
model = _base_.ogm_ge_model

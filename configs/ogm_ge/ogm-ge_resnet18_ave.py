# OGM-GE on AVE, standard ResNet-18s, concat fusion, on the OGM-GE schedule of
# its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/ogm_ge/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/ogm_ge.py']
model = _base_.ogm_ge_model

# OPM on AVE, standard ResNet-18s, concat fusion, on its joint config's
# schedule; see configs/opm/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/opm.py']
model = _base_.opm_model

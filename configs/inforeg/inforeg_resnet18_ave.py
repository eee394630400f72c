# InfoReg on AVE, standard ResNet-18s, concat fusion, on its joint config's
# schedule; see configs/inforeg/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/inforeg.py']
model = _base_.inforeg_model
custom_hooks = _base_.inforeg_custom_hooks

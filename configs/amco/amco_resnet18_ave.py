# AMCo on AVE, on its joint config's encoders and schedule; see
# configs/amco/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/amco.py']
model = _base_.amco_model

# CML on Kinetics-Sounds, on its joint config's encoders and schedule; see
# configs/cml/README.md.
_base_ = ['../joint/joint_concat_resnet18_kinetics_sounds.py',
          '../_base_/methods/cml.py']
model = _base_.cml_model

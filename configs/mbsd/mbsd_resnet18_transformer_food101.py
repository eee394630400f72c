# MBSD on Food-101 (image + text), on its joint config's encoders and
# schedule; see configs/mbsd/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/mbsd.py']
model = _base_.mbsd_model

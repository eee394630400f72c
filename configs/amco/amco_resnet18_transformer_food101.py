# AMCo on Food-101 (image + text), on its joint config's encoders and the BB
# schedule's 30 epochs (the window from epoch 4,
# configs/_base_/methods/amco.py); see configs/amco/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/amco.py']
model = _base_.amco_bb_model

# LFM on UPMC Food-101 (image + text), separate heads, on its joint config's
# schedule; see configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_model

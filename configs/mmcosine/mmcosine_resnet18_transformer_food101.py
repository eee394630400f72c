# MMCosine on UPMC Food-101 (image + text): its joint config with the cosine
# head (s = 10); see configs/mmcosine/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/mmcosine.py']
model = _base_.mmcosine_model

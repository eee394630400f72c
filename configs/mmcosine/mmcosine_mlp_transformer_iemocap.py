# MMCosine on IEMOCAP (audio + visual + text features; a sum of three cosine
# terms): its joint config with the cosine head (s = 10); see
# configs/mmcosine/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/mmcosine.py']
model = _base_.mmcosine_model

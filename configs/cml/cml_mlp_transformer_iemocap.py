# CML on IEMOCAP (audio + visual + text features; the chain removes two of
# the three modalities), on its joint config's encoders and schedule; see
# configs/cml/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/cml.py']
model = _base_.cml_model

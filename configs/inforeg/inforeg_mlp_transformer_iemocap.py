# InfoReg on IEMOCAP (audio + visual + text features): the gap of a modality
# is its mean lead over the modalities below it (Eq. 10), each modality has
# its own window; see configs/inforeg/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/inforeg.py']
model = _base_.inforeg_model
custom_hooks = _base_.inforeg_custom_hooks

# LFM on IEMOCAP (audio + visual + text features): the mean of the three
# heads, the agreement averaged over the three pairs; see
# configs/lfm/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_model

# DI-MML on IEMOCAP (audio + visual + text features, all 128-d), on the BB
# schedule of its joint config (30 epochs): L_DUC from epoch 4, fusion stage
# from 26. With three modalities, D_m^only excludes the dimensions of both
# others, and each of them is pulled towards m on it. See
# configs/dimml/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_bb_model
custom_hooks = _base_.dimml_custom_hooks

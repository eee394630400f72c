# G-Blending on IEMOCAP (audio + visual + text features; M = 3, so four
# heads), on its joint config's 30-epoch schedule: estimates every 10
# epochs, trials of 10 epochs per variant (about 5x the epochs of joint
# training in all). See configs/gblend/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/gblend.py']
model = _base_.gblend_model
train_dataloader = _base_.gblend_train_dataloader
custom_hooks = _base_.gblend_custom_hooks

# G-Blending on Food-101 (image + text), on its joint config's 30-epoch
# schedule: estimates every 10 epochs, trials of 10 epochs per variant (about
# 4x the epochs of joint training in all). See configs/gblend/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/gblend.py']
model = _base_.gblend_model
train_dataloader = _base_.gblend_train_dataloader
custom_hooks = _base_.gblend_custom_hooks

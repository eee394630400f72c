# G-Blending on VGGSound, standard ResNet-18s, on its joint config's 100-epoch
# schedule: estimates every 10 epochs (BalanceBenchmark's super-epoch), each
# variant trained alone for 10 epochs per estimate (the paper's trials; about
# 4x the epochs of joint training in all). See configs/gblend/README.md.
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/gblend.py']
model = _base_.gblend_model
train_dataloader = _base_.gblend_train_dataloader
custom_hooks = _base_.gblend_custom_hooks

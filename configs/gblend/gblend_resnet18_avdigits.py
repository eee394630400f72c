# G-Blending on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s; see configs/gblend/README.md. Cut for compute: an estimate
# before epochs 0 and 4 of 8 (super-epoch 4), each variant's trial one epoch
# long and L_T read on a quarter of the training part, so an estimate costs
# three extra epochs instead of twelve.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/gblend.py']
model = _base_.gblend_model
train_dataloader = _base_.gblend_train_dataloader
custom_hooks = [dict(_base_.gblend_hook, super_epoch=4, trial_epochs=1,
                     train_fraction=0.25)]

# G-Blending on the all-real AV-Digits variant (MNIST + FSDD speech), the
# same cuts as on the embedded variant (gblend_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/gblend.py']
model = _base_.gblend_model
train_dataloader = _base_.gblend_train_dataloader
custom_hooks = [dict(_base_.gblend_hook, super_epoch=4, trial_epochs=1,
                     train_fraction=0.25)]

# ARM on the all-real AV-Digits variant (MNIST + FSDD speech), the same
# settings as on the embedded variant (arm_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/arm.py']
warmup_epochs = 2  # of 8: the imbalance forms within the first epochs
model = dict(balancer=_base_.arm_balancer)
train_dataloader = dict(sampler=_base_.arm_sampler)
custom_hooks = [dict(_base_.arm_hook, warmup_epochs=warmup_epochs)]

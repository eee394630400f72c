# ARM on CMU-MOSEI (3 classes, aligned MMSA features), the cross-modal transformer, all three
# components with the IEMOCAP settings (W = 5 of the BB schedule's 30
# epochs). See configs/arm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_mult_sequence_mosei.py',
          '../_base_/methods/arm.py']
model = dict(balancer=_base_.arm_balancer)
train_dataloader = dict(sampler=_base_.arm_sampler)
custom_hooks = [_base_.arm_hook]

# ARM on CMU-MOSI (3 classes, aligned MMSA features), SequenceEncoders and a concat head, all three
# components with the IEMOCAP settings (W = 5 of the BB schedule's 30
# epochs). See configs/arm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_sequence_mosi.py',
          '../_base_/methods/arm.py']
model = dict(balancer=_base_.arm_balancer)
train_dataloader = dict(sampler=_base_.arm_sampler)
custom_hooks = [_base_.arm_hook]

# ARM on UCF-51, all three components, on the OGM-GE schedule of its joint
# config (SGD lr 1e-3, 100 epochs, StepLR(70)). The settings of
# arm_resnet18_avdigits.py except the warm-up; the paper gives
# none. See configs/arm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ucf51.py',
          '../_base_/methods/arm.py']
model = dict(balancer=_base_.arm_balancer)
train_dataloader = dict(sampler=_base_.arm_sampler)
custom_hooks = [_base_.arm_hook]  # W = 5, the 2024 code's warm-up

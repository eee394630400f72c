# ARM on IEMOCAP, all three components, on the BB schedule of its joint config
# (AdamW lr 1e-3, 30 epochs, StepLR(10)). The settings of
# arm_resnet18_avdigits.py except the warm-up; the paper gives
# none. See configs/arm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/arm.py']
model = dict(balancer=_base_.arm_balancer)
train_dataloader = dict(sampler=_base_.arm_sampler)
custom_hooks = [_base_.arm_hook]  # W = 5, the 2024 code's warm-up

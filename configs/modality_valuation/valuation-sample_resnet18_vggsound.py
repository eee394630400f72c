# Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024) on
# VGGSound, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/modality_valuation/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/modality_valuation.py']
model = _base_.valuation_model
train_dataloader = dict(sampler=_base_.valuation_sampler)
custom_hooks = [_base_.valuation_hook]  # W = 5 (the official warm-up)

# PMR on VGGSound, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/pmr/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/pmr.py']
model = _base_.pmr_model
custom_hooks = _base_.pmr_custom_hooks

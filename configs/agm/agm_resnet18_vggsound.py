# AGM on VGGSound, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/agm/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/agm.py']
model = _base_.agm_model

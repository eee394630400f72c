# Greedy (Wu et al., ICML 2022) on UCF-51: the joint config's ResNet-18
# branches joined by MMTM blocks after layer2-4, its concat late-fusion head,
# and guided re-balancing steps, on the OGM-GE schedule of its joint config
# (SGD lr 1e-3, 100 epochs, StepLR(70)). See configs/greedy/README.md, "Real
# benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ucf51.py',
          '../_base_/methods/greedy.py']
model = _base_.greedy_model

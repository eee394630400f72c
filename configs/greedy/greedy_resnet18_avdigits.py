# Greedy (Wu et al., ICML 2022) on AV-Digits (audio-dominant preset):
# width-16 ResNet-18 branches joined by MMTM blocks after layer2-4, the
# concat late-fusion head, and guided re-balancing steps.
# See configs/greedy/README.md for every choice.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/greedy.py']
model = _base_.greedy_model

# LFM on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s, separate heads; see configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_model

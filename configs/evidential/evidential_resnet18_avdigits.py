# Evidential (TMC) late fusion on AV-Digits (audio-dominant preset),
# width-16 ResNet-18s. See configs/evidential/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/evidential.py']
model = _base_.evidential_model

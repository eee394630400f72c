# MMPareto on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat
# fusion. See configs/mmpareto/README.md for the defaults and why.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/mmpareto.py']
model = _base_.mmpareto_model

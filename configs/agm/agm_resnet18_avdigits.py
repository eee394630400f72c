# AGM on AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat
# fusion. See configs/agm/README.md for the choices.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/agm.py']
# alpha 0.05, from a pilot on this schedule (README): BB's 0.1 diverged in
# epoch 1; the author's 1.5 (CREMA-D, 1,500 epochs) is far beyond it.
model = _base_.agm_model

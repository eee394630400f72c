# Unimodal ensemble on AV-Digits: the joint config's encoders and schedule,
# each modality trained alone on its own loss, probabilities averaged.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/unimodal_ensemble.py']
model = _base_.unimodal_ensemble_model

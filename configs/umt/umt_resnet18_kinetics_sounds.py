# UMT on Kinetics-Sounds: teachers from the unimodal runs of configs/unimodal (their
# default work dirs), trained first.
_base_ = ['../joint/joint_concat_resnet18_kinetics_sounds.py',
          '../_base_/methods/umt.py']
model = dict(_base_.umt_model, balancer=dict(
    _base_.umt_model.balancer, teacher_checkpoint=dict(
        audio='work_dirs/unimodal_audio_resnet18_kinetics_sounds',
        visual='work_dirs/unimodal_visual_resnet18_kinetics_sounds')))

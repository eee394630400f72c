# UMT on IEMOCAP (audio + visual + text features): teachers from the unimodal
# runs of configs/unimodal (their default work dirs), trained first.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/umt.py']
model = dict(_base_.umt_model, balancer=dict(
    _base_.umt_model.balancer, teacher_checkpoint=dict(
        audio='work_dirs/unimodal_audio_mlp_iemocap',
        visual='work_dirs/unimodal_visual_mlp_iemocap',
        text='work_dirs/unimodal_text_transformer_iemocap')))

# UMT on UPMC Food-101 (image + text): teachers from the unimodal runs of
# configs/unimodal (their default work dirs), trained first.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/umt.py']
model = dict(_base_.umt_model, balancer=dict(
    _base_.umt_model.balancer, teacher_checkpoint=dict(
        visual='work_dirs/unimodal_visual_resnet18_food101',
        text='work_dirs/unimodal_text_transformer_food101')))

# umt on CMU-MOSEI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosei.py.
_base_ = ['../joint/joint_concat_sequence_mosei.py',
          '../_base_/methods/umt.py']
model = dict(_base_.umt_model, balancer=dict(
    _base_.umt_model.balancer, teacher_checkpoint=dict(
        audio='work_dirs/unimodal_audio_sequence_mosei',
        visual='work_dirs/unimodal_visual_sequence_mosei',
        text='work_dirs/unimodal_text_sequence_mosei')))

# pmr on CMU-MOSI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosi.py.
_base_ = ['../joint/joint_concat_sequence_mosi.py',
          '../_base_/methods/pmr.py']
model = dict(_base_.pmr_model,
             balancer=dict(_base_.pmr_model.balancer, end_epoch=21))
custom_hooks = _base_.pmr_custom_hooks

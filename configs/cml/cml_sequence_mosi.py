# cml on CMU-MOSI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosi.py.
_base_ = ['../joint/joint_concat_sequence_mosi.py',
          '../_base_/methods/cml.py']
model = _base_.cml_model

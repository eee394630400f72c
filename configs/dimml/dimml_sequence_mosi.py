# dimml on CMU-MOSI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosi.py.
_base_ = ['../joint/joint_concat_sequence_mosi.py',
          '../_base_/methods/dimml.py']
model = _base_.dimml_bb_model
custom_hooks = _base_.dimml_custom_hooks

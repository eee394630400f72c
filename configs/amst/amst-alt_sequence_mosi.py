# amst-alt on CMU-MOSI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosi.py.
_base_ = ['../joint/joint_concat_sequence_mosi.py',
          '../_base_/methods/amst.py']
# Text is the dominant modality of MOSI / MOSEI: it skips the most.
skip_factors = dict(audio=1, visual=1, text=4)
model = dict(_base_.amst_alt_model, balancer=dict(
    _base_.amst_alt_model.balancer, skip_factors=skip_factors))

# valuation-sample on CMU-MOSEI (3-class sentiment, aligned MMSA features): the
# IEMOCAP config's settings on the same BalanceBenchmark schedule (30
# epochs), with the sequence encoders of joint_concat_sequence_mosei.py.
_base_ = ['../joint/joint_concat_sequence_mosei.py',
          '../_base_/methods/modality_valuation.py']
model = _base_.valuation_model
train_dataloader = dict(sampler=_base_.valuation_sampler)
custom_hooks = [_base_.valuation_hook]  # W = 5 (the official warm-up)

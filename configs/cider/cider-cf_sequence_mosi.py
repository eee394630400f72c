# CIDer on CMU-MOSI with MACI's counterfactual text at inference. Needs a
# folder prepared from an MMSA pickle (text_ids/); tau is chosen on
# validation (README, "How to run").
_base_ = ['./cider_sequence_mosi.py',
          '../_base_/methods/cider_counterfactual.py']
model = dict(counterfactual=_base_.counterfactual)
custom_hooks = [*_base_.custom_hooks, _base_.bias_words_hook]
val_dataloader = dict(dataset=dict(pipeline=_base_.token_ids_test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.token_ids_test_pipeline))

# CIDer with MACI's counterfactual text at inference (configs/cider/README.md):
# s = log P - tau log P_cf, where the counterfactual keeps only the special
# and the 100 bias tokens of the text (BiasWordsHook finds them in the
# training split's MMSA text_bert ids). Needs a folder prepared from an MMSA
# pickle (text_ids/); tau is chosen on validation (README, "How to run").
_base_ = ['./cider_sequence_mosei.py']
model = dict(counterfactual=dict(tau=1.0, top_k=100, min_cv=0.1))
custom_hooks = [dict(type='ClassPrototypeHook'), dict(type='BiasWordsHook')]
# Evaluation reads each sample's token ids into its metainfo.
eval_pipeline = [
    *_base_.test_pipeline[:-1],
    dict(type='LoadTokenIds', key='text_ids'),
    dict(_base_.test_pipeline[-1],
         meta_keys=('sample_id', 'sample_idx', 'skipped_samples', 'text_ids')),
]
val_dataloader = dict(dataset=dict(pipeline=eval_pipeline))
test_dataloader = dict(dataset=dict(pipeline=eval_pipeline))

# CIDer's counterfactual text at inference (configs/cider/README.md):
# s = log P - tau log P_cf, where the counterfactual keeps only the special
# and the 100 bias tokens of the text (BiasWordsHook finds them in the
# training split's MMSA text_bert ids; tau is chosen on validation by
# tools/analysis/counterfactual_tau.py). A leaf CIDer config takes
#   model = dict(counterfactual=_base_.counterfactual)
#   custom_hooks = [*_base_.custom_hooks, _base_.bias_words_hook]
# and evaluates with its dataset's token_ids_test_pipeline.
counterfactual = dict(tau=1.0, top_k=100, min_cv=0.1)
bias_words_hook = dict(type='BiasWordsHook')

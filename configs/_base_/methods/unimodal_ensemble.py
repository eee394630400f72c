# Unimodal ensemble: the blocks its configs share
# (configs/unimodal_ensemble/README.md). A config for a dataset names its
# joint config and this file, then sets
#     model = _base_.unimodal_ensemble_model
unimodal_ensemble_model = dict(
    # Each modality keeps its own head; the prediction is the mean of the
    # heads' probabilities.
    fusion=dict(_delete_=True, type='ProbabilityAverageFusion'),
    # Each head and encoder trains on its own cross-entropy only.
    balancer=dict(_delete_=True, type='UnimodalEnsemble'),
    # The members' masked predictions are their own heads: no probe heads.
    aux_heads=False)

# ReconBoost (configs/reconboost/README.md): the modalities trained one at a
# time as boosting stages against the ensemble of the others (a re-weighted
# cross-entropy plus an alignment term), each learner stage followed by a
# rectification of the whole ensemble. A method config names this file after
# its dataset's joint config and scales the stages to the run:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/reconboost.py']
#     model = _base_.reconboost_model
reconboost_model = dict(
    # Learners G(h_m) sharing the code's head 512 -> 256 -> ReLU -> K,
    # ensemble beta * sum_m G(h_m), beta (boost_rate) initialised to 1.
    fusion=dict(_delete_=True, type='BoostedEnsembleFusion',
                hidden_channels=(256, ), boost_rate=1.0),
    balancer=dict(
        _delete_=True,
        type='ReconBoostBalancer',
        learner_epochs=4,  # the code's epochs_per_stage
        rectify_epochs=4,  # correct_epoch
        w1=5.0,  # CREMA-D (AVE: 4)
        w2=1.0,
        ga_weight=0.5,  # alpha, with its gradient (the paper's intent)
        others_in_eval=True,
        reset_momentum=True))

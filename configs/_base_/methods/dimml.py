# DI-MML (configs/dimml/README.md): no fused loss ever reaches the encoders.
# Each encoder trains with its own head and a head shared by the modalities
# (plus, from duc_epoch, the dimension-wise contrast towards what only another
# modality discriminates); from fusion_epoch the encoders are frozen and a
# fusion head trains on their concatenated features. Prediction is the
# confidence-weighted vote of the unimodal heads and the fusion head. A method
# config names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/dimml.py']
#     model = _base_.dimml_model
#     custom_hooks = _base_.dimml_custom_hooks
dimml_model = dict(
    # H_m, the shared head C and the fusion head F; tau_2 of the vote
    # (official: 1 on CREMA-D, 3 on AVE).
    fusion=dict(_delete_=True, type='DetachedInteractiveFusion',
                combine_temperature=1.0),
    balancer=dict(
        _delete_=True,
        type='DIMMLBalancer',
        shared_weight=1.0,  # w: not given by the card; armlab 1
        duc_weight=1.0,
        duc_temperature=50.0,  # CREMA-D (AVE: 10)
        # The official 150 detached epochs (L_DUC from 20) and 20 fusion
        # epochs, scaled to the joint schedule's 100: 12 and 88.
        duc_epoch=12,
        fusion_epoch=88),
    # The unimodal heads are the masked predictions: no probe heads.
    aux_heads=False)
dimml_custom_hooks = [dict(type='DIMMLHook')]
# The same epochs scaled to the BB schedule's 30 (Food-101, IEMOCAP) and to
# AV-Digits' 8; on AV-Digits the fusion stage takes the last two epochs, not
# the scaled one, because the one-cycle learning rate is nearly spent by then.
dimml_bb_model = dict(
    dimml_model,
    balancer=dict(dimml_model['balancer'], duc_epoch=4, fusion_epoch=26))
dimml_avdigits_model = dict(
    dimml_model,
    balancer=dict(dimml_model['balancer'], duc_epoch=1, fusion_epoch=6))

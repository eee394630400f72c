# LFM (configs/lfm/README.md): the cross-entropy of the mean of separate
# per-modality heads mixed with the Jensen-Shannon agreement of their
# posteriors, the label weight following the released code's polynomial. A
# method config names this file after its dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/lfm.py']
#     model = _base_.lfm_model
lfm_model = dict(
    # Separate linear heads z_m; the prediction is the argmax of their sum
    # (equal to the mean's).
    fusion=dict(_delete_=True, type='SumFusion'),
    balancer=dict(
        _delete_=True,
        type='LFMBalancer',
        schedule='poly',  # Crema_epoch.py's "learnable-fitted" alpha_1(t)
        poly_epochs=200))  # the code's run length: the axis it was fitted on
# The released code's bi-level variant (Crema_epoch_learnable.py as read):
# alpha_2 learned from 0.95 by one hypergradient step after every epoch on a
# fixed batch of 8 held-out training samples (1 % of the training split is
# held out for it: the train dataset needs `holdout`).
lfm_learned_model = dict(
    lfm_model,
    balancer=dict(lfm_model['balancer'], schedule='learned',
                  align_weight_init=0.95, hyper_lr=1e-4, hyper_lr_halving=20,
                  align_weight_range=(0.05, 0.95)))
lfm_learned_custom_hooks = [dict(type='LFMHook', num_samples=8)]
lfm_learned_holdout = dict(fraction=0.01, seed=0, part='train')

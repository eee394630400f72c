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

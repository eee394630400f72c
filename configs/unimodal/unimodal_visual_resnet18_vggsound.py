# Vision alone on VGGSound: the joint config's visual encoder, data and
# schedule (the reference for the joint model and the balancers). The pipeline
# still loads every modality; the model reads only this one.
_base_ = '../joint/joint_concat_resnet18_vggsound.py'
model = dict(
    encoders=dict(_delete_=True, visual={{_base_.model.encoders.visual}}),
    data_preprocessor=dict(
        modalities=dict(
            _delete_=True,
            visual={{_base_.model.data_preprocessor.modalities.visual}})))

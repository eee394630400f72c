# Audio alone on Kinetics-Sounds: the joint config's audio encoder, data and
# schedule (the reference for the joint model and the balancers). The pipeline
# still loads every modality; the model reads only this one.
_base_ = '../joint/joint_concat_resnet18_kinetics_sounds.py'
model = dict(
    encoders=dict(_delete_=True, audio={{_base_.model.encoders.audio}}),
    data_preprocessor=dict(
        modalities=dict(
            _delete_=True,
            audio={{_base_.model.data_preprocessor.modalities.audio}})))

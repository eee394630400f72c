# Audio alone: the same encoder and schedule as the joint model (reference).
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
model = dict(
    encoders=dict(_delete_=True,
                  audio=dict(type='SpectrogramResNet', depth=18,
                             base_channels=16)),
    data_preprocessor=dict(modalities=dict(_delete_=True, audio=dict())))

# Two ResNet-18 encoders (1-channel spectrogram stem; frames pooled over time)
# and late concatenation fusion: the standard model of the OGM-GE lineage.
# GPU switches: channels_last=True below (NHWC, for tensor cores) and
# `tools/train.py --amp` (optim_wrapper.type='AmpOptimWrapper').
channels_last = False
model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        audio=dict(type='SpectrogramResNet', depth=18, base_channels=64,
                   channels_last=channels_last),
        visual=dict(type='FrameResNet', depth=18, base_channels=64,
                    channels_last=channels_last),
    ),
    fusion=dict(type='ConcatFusion'),
    num_classes=10,
    balancer=dict(type='JointTraining'),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(
            audio=dict(),
            visual=dict(mean=[123.675, 116.28, 103.53],
                        std=[58.395, 57.12, 57.375]))),
)

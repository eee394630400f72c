# Image + text: a ResNet-18 image encoder (each image a one-frame clip) and a
# small transformer text encoder trained from scratch, concat fusion.
# A leaf config sets num_classes (and the vocabulary size when its
# preparation tool's --max-vocab differs from 30000).
model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        visual=dict(type='FrameResNet', depth=18, base_channels=64),
        # vocab_size >= the preparation tool's --max-vocab (30000 default).
        text=dict(type='TextEncoder', vocab_size=30000, embed_dims=256,
                  num_layers=2, num_heads=4, max_length=32, dropout=0.1,
                  pooling='mean'),
    ),
    fusion=dict(type='ConcatFusion'),
    num_classes=101,
    balancer=dict(type='JointTraining'),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(visual=dict(mean=[123.675, 116.28, 103.53],
                                    std=[58.395, 57.12, 57.375]),
                        text=dict()),
        index_modalities=('text', )),
)

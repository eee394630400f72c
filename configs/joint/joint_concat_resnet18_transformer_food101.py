# Joint training on UPMC Food-101: ResNet-18 image encoder (each image a
# one-frame clip) + a small transformer text encoder trained from scratch,
# concat fusion, 101 classes. Schedule: the BB protocol of docs/protocols.md
# (AdamW lr 1e-3, wd 0.01, StepLR(10, 0.1), 30 epochs), checkpoint selected
# on the carved validation split.
_base_ = [
    '../_base_/datasets/food101.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        visual=dict(type='FrameResNet', depth=18, base_channels=64),
        # vocab_size >= prepare_food101.py --max-vocab (30000 by default).
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

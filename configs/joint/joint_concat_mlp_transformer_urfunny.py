# Joint training on UR-FUNNY (humour detection, 2 classes), three
# modalities: COVAREP audio and OpenFace visual word-aligned feature
# sequences through SequenceEncoders (masked temporal mean + MLP), the
# punchline's text through a small transformer trained from scratch, concat
# fusion. Schedule: the BB protocol (AdamW lr 1e-3, wd 0.01, StepLR(10, 0.1),
# 30 epochs), checkpoint selected on the official dev fold.
_base_ = [
    '../_base_/datasets/urfunny.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        # vocab_size >= prepare_urfunny.py --max-vocab (8000 by default).
        text=dict(type='TextEncoder', vocab_size=8000, embed_dims=128,
                  num_layers=2, num_heads=4, max_length=40, dropout=0.1,
                  pooling='mean'),
        audio=dict(type='SequenceEncoder', in_channels=81, out_channels=128,
                   hidden_channels=(256, )),
        visual=dict(type='SequenceEncoder', in_channels=371,
                    out_channels=128, hidden_channels=(256, )),
    ),
    fusion=dict(type='ConcatFusion'),
    num_classes=2,
    balancer=dict(type='JointTraining'),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(text=dict(), audio=dict(), visual=dict()),
        index_modalities=('text', )),
)
auto_scale_lr = dict(base_batch_size=32)

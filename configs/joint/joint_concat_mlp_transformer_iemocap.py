# Joint training on IEMOCAP (6 emotions), three modalities through one
# MultimodalClassifier: audio and visual feature vectors through
# SequenceEncoders (masked temporal mean + MLP), text through a small
# transformer trained from scratch, concat fusion. Schedule: the BB protocol
# of docs/protocols.md (AdamW lr 1e-3, wd 0.01, StepLR(10, 0.1), 30 epochs),
# checkpoint selected on the carved validation split.
_base_ = [
    '../_base_/datasets/iemocap.py',
    '../_base_/schedules/bb_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        audio=dict(type='SequenceEncoder', in_channels=100, out_channels=128,
                   hidden_channels=(256, )),
        visual=dict(type='SequenceEncoder', in_channels=512,
                    out_channels=128, hidden_channels=(256, )),
        # vocab_size >= prepare_iemocap.py --max-vocab (8000 by default).
        text=dict(type='TextEncoder', vocab_size=8000, embed_dims=128,
                  num_layers=2, num_heads=4, max_length=48, dropout=0.1,
                  pooling='mean'),
    ),
    fusion=dict(type='ConcatFusion'),
    num_classes=6,
    balancer=dict(type='JointTraining'),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(audio=dict(), visual=dict(), text=dict()),
        index_modalities=('text', )),
)
auto_scale_lr = dict(base_batch_size=32)  # BB's effective batch

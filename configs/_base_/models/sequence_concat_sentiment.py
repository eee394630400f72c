# Late-fusion sentiment classifier for feature sequences (CMU-MOSI / MOSEI):
# each modality through a SequenceEncoder (masked temporal mean over the
# valid steps, then an MLP to 128-d), concat fusion, 3 classes. in_channels
# are CMU-MOSI's with MMSA features (COVAREP 5, Facet 20, BERT 768); a
# dataset or a MulT pickle (GloVe 300) overrides them.
model = dict(
    type='MultimodalClassifier',
    encoders=dict(
        audio=dict(type='SequenceEncoder', in_channels=5, out_channels=128,
                   hidden_channels=(64, )),
        visual=dict(type='SequenceEncoder', in_channels=20,
                    out_channels=128, hidden_channels=(64, )),
        text=dict(type='SequenceEncoder', in_channels=768, out_channels=128,
                  hidden_channels=(256, )),
    ),
    fusion=dict(type='ConcatFusion'),
    num_classes=3,
    balancer=dict(type='JointTraining'),
    # Features arrive as extracted; no normalisation statistics.
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(audio=dict(), visual=dict(), text=dict())),
)

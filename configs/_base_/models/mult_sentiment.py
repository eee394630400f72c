# A cross-modal transformer of the MulT kind (Tsai et al., ACL 2019) for
# feature sequences (CMU-MOSI / MOSEI): each modality projected to width 32
# with positions, cross-modal attention from every other modality, a
# self-attention layer, the valid steps' mean as that modality's feature,
# concat fusion, 3 classes. in_channels are CMU-MOSI's with MMSA features
# (COVAREP 5, Facet 20, BERT 768); a dataset or a MulT pickle overrides them.
model = dict(
    type='CrossModalTransformerClassifier',
    encoders=dict(
        audio=dict(type='SequenceProjector', in_channels=5, out_channels=32,
                   kernel_size=1),
        visual=dict(type='SequenceProjector', in_channels=20,
                    out_channels=32, kernel_size=1),
        text=dict(type='SequenceProjector', in_channels=768,
                  out_channels=32, kernel_size=3),
    ),
    cross_layers=2,
    self_layers=1,
    num_heads=4,
    dropout=0.1,
    fusion=dict(type='ConcatFusion'),
    num_classes=3,
    balancer=dict(type='JointTraining'),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(audio=dict(), visual=dict(), text=dict())),
)

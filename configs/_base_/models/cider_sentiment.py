# The CIDer model (configs/cider/README.md) for feature sequences (CMU-MOSI /
# MOSEI): per modality a bias-free 1x1 projection to d = 32 and a GRU; the
# multimodal transformer (3 layers, 8 heads) along every modality subset;
# attention pooling; the residual joint representation and the
# backdoor-adjusted head over class prototypes of the raw features
# (ClassPrototypeHook fills them from the training split); MSSD, the
# complete and masked passes with self-distillation. in_channels are
# CMU-MOSI's MMSA features (COVAREP 5, Facet 20, BERT 768).
feature_channels = dict(audio=5, visual=20, text=768)
model = dict(
    type='CIDerClassifier',
    encoders={m: dict(type='GRUSequenceEncoder', in_channels=d,
                      out_channels=32)
              for m, d in feature_channels.items()},
    transformer=dict(num_layers=3, num_heads=8, attn_dropout=0.0,
                     relu_dropout=0.1, res_dropout=0.1, embed_dropout=0.2,
                     positions='time'),  # 'batch': CIDer's indexing quirk
    fusion=dict(type='BackdoorAdjustedFusion', adjust=True,
                prototype_channels=feature_channels, prototype_width=32,
                out_dropout=0.3),
    num_classes=3,
    # The masked heads (fill) give the per-modality predictions.
    aux_heads=False,
    balancer=dict(type='MSSDBalancer', drop_rate=0.5, rep_weight=0.5,
                  attn_weight=0.1, rec_weight=0.6, keep_ends=('text', ),
                  accumulate=True),
    data_preprocessor=dict(
        type='MultimodalDataPreprocessor',
        modalities=dict(audio=dict(), visual=dict(), text=dict())),
)
custom_hooks = [dict(type='ClassPrototypeHook')]

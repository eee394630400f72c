# CMU-MOSI (audio + visual + text sentiment), prepared by
# tools/data/prepare_sentiment.py from the MMSA aligned_50.pkl (or MulT
# mosi_data.pkl): the pickle's train / valid / test splits, the 3-class task
# (negative / neutral / positive) in gt_label and the score, 3- and 7-class
# labels in every entry (docs/datasets.md, "CMU-MOSI and CMU-MOSEI").
# Features are sequences at the pickle's fixed length (aligned: 50 word
# pieces), zero past each sample's valid length, which SequenceEncoder leaves
# out of its mean.
_base_ = './prepared_splits.py'
data_root = 'data/mosi/aligned'
modalities = ('audio', 'visual', 'text')

# max_length None keeps the prepared T (one T per folder); the encoders'
# in_channels check D (5 COVAREP, 20 Facet, 768 BERT or 300 GloVe).
pipeline = [
    dict(type='LoadFeatures', key='audio', max_length=None),
    dict(type='LoadFeatures', key='visual', max_length=None),
    dict(type='LoadFeatures', key='text', max_length=None),
    dict(type='PackFeatureInputs', modalities=modalities,
         feature_modalities=modalities),
]
train_pipeline = pipeline  # no augmentation of precomputed features
test_pipeline = pipeline
# Evaluation that also reads each sample's MMSA token ids (text_ids/) into
# its metainfo: CIDer's counterfactual text (configs/cider, cider-cf_*).
token_ids_test_pipeline = [
    *pipeline[:-1],
    dict(type='LoadTokenIds', key='text_ids'),
    dict(pipeline[-1],
         meta_keys=('sample_id', 'sample_idx', 'skipped_samples', 'text_ids')),
]

train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))
test_dataloader = dict(num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))
# accuracy/top1 (checkpoint selection), macro-F1 and the per-modality
# accuracies, then the field's Acc-3 / F1-3 / Acc-2 (has-0, non-0) / Acc-7.
val_evaluator = [dict(type='MultimodalAccuracy', topk=(1, 2)),
                 dict(type='SentimentClassificationMetric')]
test_evaluator = val_evaluator

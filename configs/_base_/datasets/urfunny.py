# UR-FUNNY (text + audio + visual, humour or not), prepared by
# tools/data/prepare_urfunny.py from the authors' v2 feature pickles: the
# official train / dev (validation) / test folds, vocab.json from train.
# Audio (81-d COVAREP) and visual (371-d OpenFace) come as one row per word
# of the punchline; LoadFeatures pads or cuts them to feature_length rows.
_base_ = './prepared_splits.py'
data_root = 'data/urfunny'
modalities = ('text', 'audio', 'visual')
vocab_file = data_root + '/vocab.json'
max_text_length = 40
feature_length = 40  # words (punchlines are shorter; --context adds more)

pipeline = [
    dict(type='LoadFeatures', key='audio', max_length=feature_length,
         expected_dim=81),
    dict(type='LoadFeatures', key='visual', max_length=feature_length,
         expected_dim=371),
    dict(type='LoadText', key='text'),
    dict(type='Tokenize', vocab_file=vocab_file, max_length=max_text_length,
         key='text'),
    dict(type='PackFeatureInputs', modalities=modalities,
         feature_modalities=('audio', 'visual')),
]
train_pipeline = pipeline  # no augmentation of precomputed features
test_pipeline = pipeline

train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))
test_dataloader = dict(num_workers=2, dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))

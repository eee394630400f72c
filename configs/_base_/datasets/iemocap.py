# IEMOCAP (audio + visual + text, 6 emotions), prepared by
# tools/data/prepare_iemocap.py from the DialogueRNN feature pickle: official
# session-5 test dialogues, validation carved from the training dialogues
# (dialogue-disjoint, seeded), vocab.json built from the train split.
# Audio (100-d openSMILE) and visual (512-d DenseNet) come as one feature
# vector per utterance (T = 1); text as word tokens.
_base_ = './prepared_splits.py'
data_root = 'data/iemocap'
modalities = ('audio', 'visual', 'text')
vocab_file = data_root + '/vocab.json'
max_text_length = 48
feature_length = 1  # T of the audio/visual features (1 in this pickle)

pipeline = [
    dict(type='LoadFeatures', key='audio', max_length=feature_length,
         expected_dim=100),
    dict(type='LoadFeatures', key='visual', max_length=feature_length,
         expected_dim=512),
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
val_evaluator = dict(topk=(1, 3))
test_evaluator = val_evaluator

# UPMC Food-101 (image + recipe title, 101 classes), prepared by
# tools/data/prepare_food101.py: official test list, validation carved from
# train (seeded, class-stratified), vocab.json built from the train split.
# Each image is a one-frame clip (LoadImage -> (1, H, W, 3)), so the frame
# transforms and FrameResNet serve it unchanged.
_base_ = './prepared_splits.py'
data_root = 'data/food101'
modalities = ('visual', 'text')
vocab_file = data_root + '/vocab.json'
max_text_length = 32
image_size = 224

train_pipeline = [
    dict(type='LoadImage', key='visual'),
    dict(type='FramesRandomResizedCrop', size=image_size, key='visual'),
    dict(type='FramesRandomFlip', prob=0.5, key='visual'),
    dict(type='LoadText', key='text'),
    dict(type='Tokenize', vocab_file=vocab_file, max_length=max_text_length,
         key='text'),
    dict(type='PackMultimodalInputs', modalities=modalities),
]
test_pipeline = [
    dict(type='LoadImage', key='visual'),
    dict(type='FramesResize', size=image_size, key='visual'),
    dict(type='LoadText', key='text'),
    dict(type='Tokenize', vocab_file=vocab_file, max_length=max_text_length,
         key='text'),
    dict(type='PackMultimodalInputs', modalities=modalities),
]

train_dataloader = dict(dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(
    data_root=data_root, modalities=modalities, pipeline=test_pipeline))

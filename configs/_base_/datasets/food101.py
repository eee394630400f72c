# UPMC Food-101 (image + recipe title, 101 classes), prepared by
# tools/data/prepare_food101.py: official test list, validation carved from
# train (seeded, class-stratified), vocab.json built from the train split.
# Each image is a one-frame clip (LoadImage -> (1, H, W, 3)), so the frame
# transforms and FrameResNet serve it unchanged.
dataset_type = 'MultimodalDataset'
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

train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/train.json', modalities=modalities,
                 test_mode=False, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/val.json', modalities=modalities,
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=128, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/test.json', modalities=modalities,
                 test_mode=True, pipeline=test_pipeline))
val_evaluator = dict(type='MultimodalAccuracy', topk=(1, 5))
test_evaluator = val_evaluator

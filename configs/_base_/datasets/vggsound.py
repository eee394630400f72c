# VGGSound (the classes with downloaded clips; 309 in OGM-GE's copy),
# prepared by tools/data/prepare_vggsound.py into data_root
# (docs/datasets.md). OGM-GE front-end: the cached STFT log-magnitude of a
# 5-s crop at 16 kHz (129 x 626; centred, where OGM-GE draws it at random)
# and 3 frames per clip, TSN-sampled from frames extracted at 1 fps.
# Train: random resized crop 224 + flip; test: resize 224.
dataset_type = 'MultimodalDataset'
data_root = 'data/vggsound'
num_frames = 3
spec_shape = (129, 626)

train_pipeline = [
    dict(type='LoadSpectrogram', key='audio', path_key='audio_spec',
         expected_shape=spec_shape),
    dict(type='SampleFrames', key='visual', num_frames=num_frames,
         test_mode=False),
    dict(type='LoadFrames', key='visual'),
    dict(type='FramesRandomResizedCrop', size=224, key='visual'),
    dict(type='FramesRandomFlip', prob=0.5, key='visual'),
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]
test_pipeline = [
    dict(type='LoadSpectrogram', key='audio', path_key='audio_spec',
         expected_shape=spec_shape),
    dict(type='SampleFrames', key='visual', num_frames=num_frames,
         test_mode=True),
    dict(type='LoadFrames', key='visual'),
    dict(type='FramesResize', size=224, key='visual'),
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/train.json', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/val.json', test_mode=True,
                 pipeline=test_pipeline),
)
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/test.json', test_mode=True,
                 pipeline=test_pipeline),
)
val_evaluator = dict(type='MultimodalAccuracy', topk=(1, 5))
test_evaluator = val_evaluator

# Audio-visual clip benchmarks (AVE, CREMA-D, Kinetics-Sounds, UCF-51,
# VGGSound): a cached spectrogram and TSN-sampled frames per clip, the
# OGM-GE visual front-end (train: random resized crop 224 + flip; test:
# resize 224). The frame count and the spectrogram shape are the dataset's
# (AVClipDataset's num_frames / spec_shape), read by SampleFrames and
# LoadSpectrogram from each sample, so a benchmark's base sets them once:
#     clip = dict(data_root='data/<name>', num_frames=3, spec_shape=(F, T))
#     train_dataloader = dict(dataset=clip)   # and val_, test_dataloader
_base_ = './prepared_splits.py'
dataset_type = 'AVClipDataset'

train_pipeline = [
    dict(type='LoadSpectrogram', key='audio', path_key='audio_spec'),
    dict(type='SampleFrames', key='visual', num_frames=None,
         test_mode=False),
    dict(type='LoadFrames', key='visual'),
    dict(type='FramesRandomResizedCrop', size=224, key='visual'),
    dict(type='FramesRandomFlip', prob=0.5, key='visual'),
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]
test_pipeline = [
    dict(type='LoadSpectrogram', key='audio', path_key='audio_spec'),
    dict(type='SampleFrames', key='visual', num_frames=None,
         test_mode=True),
    dict(type='LoadFrames', key='visual'),
    dict(type='FramesResize', size=224, key='visual'),
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=test_pipeline))

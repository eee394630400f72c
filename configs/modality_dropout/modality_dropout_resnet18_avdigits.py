# Modality dropout (ModDrop-style augmentation) on AV-Digits audio-dominant:
# joint training, concat fusion, width-16 ResNet-18s, where each training
# sample loses each modality with probability 0.5, redrawn until one stays:
# {audio, visual}, {audio} and {visual} each a third of the time. Absent
# modalities take the fusion's fill (zero), exactly as RMM at test time.
# The draw is seeded per (seed, epoch, sample) by armlab's draw seeding
# (seed=None: numpy's per-sample stream), so runs are reproducible.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'

modality_dropout = dict(type='MissingModality', protocol='RMM', rate=0.5,
                        modalities=('audio', 'visual'), fill='model',
                        seed=None, min_present=1)
# The base train pipeline (configs/_base_/datasets/avdigits.py) with the
# dropout inserted right before packing.
train_pipeline = [
    dict(type='LoadAudio', key='audio', sample_rate=16000),
    dict(type='SampleFrames', key='visual', num_frames=1, test_mode=False),
    dict(type='LoadFrames', key='visual'),
    dict(type='AVDigitsImbalance'),
    dict(type='AudioSpectrogram', key='audio', kind='logmel',
         sample_rate=16000, n_fft=512, win_length=400, hop_length=320,
         n_mels=64),
    modality_dropout,
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# AV-Digits (embedded benchmark): built on first use from installed packages
# (scikit-learn's digits + espeak-ng speech), no download. The imbalance knobs
# are applied at load time with per-sample seeds, so every method sees the
# same inputs. Default preset: audio-dominant (audio 0 dB SNR, pixel noise 3.0,
# calibrated for this variant: docs/results/avdigits_calibration.md).
dataset_type = 'AVDigitsDataset'
data_root = 'data/avdigits/sklearn_espeak'
build_cfg = dict(
    num_train=7000, num_val=1000, num_test=2000, num_frames=3, canvas=32,
    window_s=1.0, visual_source='sklearn', audio_source='espeak', seed=0)
preset = 'audio-dominant'
num_frames = 1  # sampled from the 3 built frames (random segment in training)
# Data path. The workers read waveforms and frames from a shared in-memory
# cache of the decoded files (cache=True) and draw the erasures; the noise
# and the log-mel spectrogram run on the whole batch in the data
# preprocessor, on the model's device (on_batch=True). The per-sample
# librosa path of earlier results: dataset.on_batch=False in each loader.
# Every sample has the same shapes, so the workers stack each batch
# (default_collate): one shared-memory tensor per modality crosses to the
# main process instead of one per sample.

audio_front_end = dict(
    type='AudioSpectrogram', key='audio', kind='logmel', sample_rate=16000,
    n_fft=512, win_length=400, hop_length=320, n_mels=64, on_batch=True)

train_pipeline = [
    dict(type='LoadAudio', key='audio', sample_rate=16000),
    dict(type='SampleFrames', key='visual', num_frames=num_frames,
         test_mode=False),
    dict(type='LoadFrames', key='visual'),
    dict(type='AVDigitsImbalance', on_batch=True),
    audio_front_end,
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]
test_pipeline = [
    dict(type='LoadAudio', key='audio', sample_rate=16000),
    dict(type='SampleFrames', key='visual', num_frames=num_frames,
         test_mode=True),
    dict(type='LoadFrames', key='visual'),
    dict(type='AVDigitsImbalance', on_batch=True),
    audio_front_end,
    dict(type='PackMultimodalInputs', modalities=('audio', 'visual')),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 build_cfg=build_cfg, preset=preset, cache=True,
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 build_cfg=build_cfg, preset=preset, test_mode=True,
                 cache=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='MultimodalAccuracy', topk=(1, 5))
test_evaluator = val_evaluator

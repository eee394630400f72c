"""Loading, frame sampling, clip-consistent augmentation and packing."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import soundfile as sf
import torch
from mmpretrain.structures import DataSample

from armlab.datasets.transforms import (AudioSpectrogram, FramesRandomFlip,
                                        FramesRandomResizedCrop, FramesResize,
                                        LoadAudio, LoadFrames,
                                        LoadSpectrogram,
                                        PackMultimodalInputs, SampleFrames)
from armlab.datasets.transforms.loading import tsn_indices
from armlab.registry import TRANSFORMS


def _write_wav(path, seconds=0.5, rate=16000, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * 440 * t)
    if channels > 1:
        wave = np.stack([wave] * channels, axis=1)
    sf.write(path, wave, rate, subtype='PCM_16')
    return path


def _frame_folder(root, n, name='clip', size=(12, 16), fmt='frame_{:04d}'):
    folder = osp.join(root, name)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        img = np.full((*size, 3), i * 10 % 256, np.uint8)
        cv2.imwrite(osp.join(folder, fmt.format(i) + '.jpg'), img)
    return folder


# ------------------------------------------------------------------ audio
def test_load_audio(tmp_path):
    path = _write_wav(str(tmp_path / 'a.wav'))
    out = LoadAudio()(dict(audio_path=path, sample_id='a'))
    assert out['audio'].dtype == np.float32 and out['audio'].ndim == 1
    assert out['audio_sample_rate'] == 16000 and len(out['audio']) == 8000
    assert np.abs(out['audio']).max() <= 1.0
    # Stereo, other rate: averaged to mono and resampled.
    path = _write_wav(str(tmp_path / 'b.wav'), rate=8000, channels=2)
    out = LoadAudio(sample_rate=16000)(dict(audio_path=path))
    assert out['audio'].shape == (8000, ) and out['audio_sample_rate'] == 16000
    out = LoadAudio(sample_rate=None, mono=False)(dict(audio_path=path))
    assert out['audio'].shape == (2, 4000) and out['audio_sample_rate'] == 8000


def test_load_audio_errors(tmp_path):
    bad = tmp_path / 'corrupt.wav'
    bad.write_bytes(b'not a wav file at all')
    with pytest.raises(OSError, match="corrupt.wav.*sample 'x1'"):
        LoadAudio()(dict(audio_path=str(bad), sample_id='x1'))
    empty = str(tmp_path / 'empty.wav')
    sf.write(empty, np.zeros(0), 16000)
    with pytest.raises(ValueError, match="empty.wav.*sample 'x2'"):
        LoadAudio()(dict(audio_path=empty, sample_id='x2'))
    with pytest.raises(KeyError, match="'audio_path'"):
        LoadAudio()(dict(sample_id='x3'))


def test_cremad_stft_shape(tmp_path):
    """OGM-GE's CREMA-D front-end: 22,050 Hz, tile 3, 66,150 samples."""
    path = _write_wav(str(tmp_path / 'c.wav'), seconds=1.3, rate=22050)
    pipeline = [LoadAudio(sample_rate=22050),
                TRANSFORMS.build(dict(type='AudioSpectrogram', kind='stft',
                                      num_samples=66150, tile=3, n_fft=512,
                                      hop_length=353))]
    results = dict(audio_path=path)
    for t in pipeline:
        results = t(results)
    assert results['audio'].shape == (257, 188)
    assert results['audio'].dtype == np.float32


def test_audio_spectrogram_logmel_uses_sample_rate():
    wave = np.random.RandomState(0).randn(16000).astype(np.float32) * 0.1
    out = AudioSpectrogram(kind='logmel')(dict(audio=wave,
                                               audio_sample_rate=16000))
    assert out['audio'].shape == (64, 51)
    with pytest.raises(ValueError, match="sample 'st'.*1-D"):
        AudioSpectrogram()(dict(audio=np.zeros((2, 10)), sample_id='st'))
    with pytest.raises(ValueError, match='kind'):
        AudioSpectrogram(kind='mfcc')


def test_load_spectrogram(tmp_path):
    good = str(tmp_path / 'g.npy')
    np.save(good, np.ones((4, 5), np.float64))
    out = LoadSpectrogram()(dict(audio_spec_path=good))
    assert out['audio'].shape == (4, 5) and out['audio'].dtype == np.float32
    LoadSpectrogram(expected_shape=(4, None))(dict(audio_spec_path=good))
    with pytest.raises(ValueError, match="g.npy.*sample 's'.*expected"):
        LoadSpectrogram(expected_shape=(4, 6))(
            dict(audio_spec_path=good, sample_id='s'))
    flat = str(tmp_path / 'flat.npy')
    np.save(flat, np.ones(7))
    with pytest.raises(ValueError, match='flat.npy.*not 2-D'):
        LoadSpectrogram()(dict(audio_spec_path=flat))
    junk = tmp_path / 'junk.npy'
    junk.write_bytes(b'garbage')
    with pytest.raises(OSError, match='junk.npy'):
        LoadSpectrogram()(dict(audio_spec_path=str(junk)))


def test_the_clip_shape_comes_from_the_sample_when_the_step_has_none(
        tmp_path):
    # AVClipDataset puts num_frames / spec_shape in every sample; the steps
    # of configs/_base_/datasets/av_clips.py carry neither.
    spec = str(tmp_path / 's.npy')
    np.save(spec, np.ones((4, 5), np.float32))
    LoadSpectrogram()(dict(audio_spec_path=spec, spec_shape=(4, 5)))
    with pytest.raises(ValueError, match=r'expected \(4, 6\)'):
        LoadSpectrogram()(dict(audio_spec_path=spec, spec_shape=(4, 6)))
    # The step's own shape wins over the sample's.
    LoadSpectrogram(expected_shape=(4, 5))(
        dict(audio_spec_path=spec, spec_shape=(4, 6)))
    folder = _frame_folder(str(tmp_path), 12, fmt='frame_{}')
    out = SampleFrames(num_frames=None, test_mode=True)(
        dict(visual_path=folder, num_frames=4))
    assert len(out['visual_frame_paths']) == 4
    with pytest.raises(KeyError, match="sample 'x'.*'num_frames'"):
        SampleFrames(num_frames=None)(dict(visual_path=folder,
                                           sample_id='x'))


# ----------------------------------------------------------------- frames
def test_tsn_test_mode_centres():
    # Segments of 10 frames into 3: [0,3) [3,6) [6,10) -> centres 1, 4, 8.
    assert tsn_indices(10, 3, test_mode=True).tolist() == [1, 4, 8]
    assert tsn_indices(9, 3, test_mode=True).tolist() == [1, 4, 7]
    assert tsn_indices(3, 3, test_mode=True).tolist() == [0, 1, 2]
    assert tsn_indices(7, 1, test_mode=True).tolist() == [3]


def test_tsn_train_draws_stay_in_segments():
    np.random.seed(0)
    n, t = 11, 3
    bounds = [(0, 3), (3, 7), (7, 11)]
    seen = [set() for _ in range(t)]
    for _ in range(500):
        inds = tsn_indices(n, t, test_mode=False)
        for i, (lo, hi) in enumerate(bounds):
            assert lo <= inds[i] < hi
            seen[i].add(int(inds[i]))
    # Every frame of every segment is drawn at some point (uniform draws).
    assert seen == [set(range(lo, hi)) for lo, hi in bounds]


def test_tsn_fewer_frames_than_segments():
    for mode in (True, False):
        assert tsn_indices(2, 3, test_mode=mode).tolist() == [0, 0, 1]
        assert tsn_indices(1, 4, test_mode=mode).tolist() == [0, 0, 0, 0]


def test_sample_frames_numeric_sort(tmp_path):
    # Unpadded names: lexical order would put frame_10 before frame_2.
    folder = _frame_folder(str(tmp_path), 12, fmt='frame_{}')
    open(osp.join(folder, 'notes.txt'), 'w').close()  # ignored
    out = SampleFrames(num_frames=12, test_mode=True)(
        dict(visual_path=folder))
    names = [osp.basename(p) for p in out['visual_frame_paths']]
    assert names == [f'frame_{i}.jpg' for i in range(12)]
    assert names.index('frame_10.jpg') == names.index('frame_9.jpg') + 1
    assert out['visual_total_frames'] == 12
    out = SampleFrames(num_frames=3, test_mode=True)(dict(visual_path=folder))
    assert [osp.basename(p) for p in out['visual_frame_paths']] == [
        'frame_2.jpg', 'frame_6.jpg', 'frame_10.jpg']


def test_sample_frames_errors(tmp_path):
    empty = tmp_path / 'empty_clip'
    empty.mkdir()
    with pytest.raises(ValueError, match="empty_clip.*sample 'e'"):
        SampleFrames()(dict(visual_path=str(empty), sample_id='e'))
    with pytest.raises(FileNotFoundError, match='no_such_clip'):
        SampleFrames()(dict(visual_path=str(tmp_path / 'no_such_clip')))


def test_load_frames(tmp_path):
    folder = _frame_folder(str(tmp_path), 4, size=(12, 16))
    # A pure-red frame checks the RGB order.
    cv2.imwrite(osp.join(folder, 'frame_0000.png'),
                np.dstack([np.zeros((12, 16)), np.zeros((12, 16)),
                           np.full((12, 16), 255)]).astype(np.uint8))
    paths = [osp.join(folder, 'frame_0000.png'),
             osp.join(folder, 'frame_0002.jpg')]
    out = LoadFrames()(dict(visual_frame_paths=paths))
    assert out['visual'].shape == (2, 12, 16, 3)
    assert out['visual'].dtype == np.uint8
    assert out['visual'][0, 0, 0].tolist() == [255, 0, 0]
    out = LoadFrames(to_float32=True)(dict(visual_frame_paths=paths))
    assert out['visual'].dtype == np.float32
    bad = osp.join(folder, 'frame_0003.jpg')
    with open(bad, 'wb') as f:
        f.write(b'broken')
    with pytest.raises(OSError, match="frame_0003.jpg.*sample 'v'"):
        LoadFrames()(dict(visual_frame_paths=[bad], sample_id='v'))


def _identical_clip(t=3, h=20, w=30):
    frame = np.random.RandomState(1).randint(0, 256, (h, w, 3), np.uint8)
    return np.stack([frame] * t)


def test_frame_augmentations_are_clip_consistent():
    np.random.seed(3)
    crop = FramesRandomResizedCrop(size=8, scale=(0.1, 0.5))
    flip = FramesRandomFlip(prob=0.5)
    flips = set()
    for _ in range(20):
        out = flip(crop(dict(visual=_identical_clip())))
        clip = out['visual']
        assert clip.shape == (3, 8, 8, 3) and clip.dtype == np.uint8
        assert all(np.array_equal(clip[0], f) for f in clip[1:])
        x1, y1, x2, y2 = out['visual_crop_bbox']
        assert 0 <= x1 < x2 <= 30 and 0 <= y1 < y2 <= 20
        flips.add(out['visual_flip'])
    assert flips == {True, False}


def test_frame_augmentations_deterministic_and_correct():
    clip = np.random.RandomState(2).randint(0, 256, (2, 20, 30, 3), np.uint8)
    outs = []
    for _ in range(2):
        np.random.seed(7)
        outs.append(FramesRandomResizedCrop(size=(6, 9))(dict(visual=clip)))
    assert outs[0]['visual_crop_bbox'] == outs[1]['visual_crop_bbox']
    assert np.array_equal(outs[0]['visual'], outs[1]['visual'])
    assert outs[0]['visual'].shape == (2, 6, 9, 3)
    flipped = FramesRandomFlip(prob=1.0)(dict(visual=clip))['visual']
    assert np.array_equal(flipped, clip[:, :, ::-1])
    kept = FramesRandomFlip(prob=0.0)(dict(visual=clip))['visual']
    assert np.array_equal(kept, clip)
    resized = FramesResize(size=(10, 15))(dict(visual=clip))
    assert resized['visual'].shape == (2, 10, 15, 3)
    assert resized['visual_shape'] == (10, 15)
    assert FramesResize(7)(dict(visual=clip))['visual'].shape == (2, 7, 7, 3)


# ---------------------------------------------------------------- packing
def test_pack_shapes_dtypes_and_masks():
    results = dict(audio=np.zeros((64, 51), np.float32),
                   visual=np.zeros((3, 8, 8, 3), np.uint8),
                   gt_label=4, sample_id='p0', sample_idx=9)
    packed = PackMultimodalInputs()(dict(results))
    inputs, ds = packed['inputs'], packed['data_samples']
    assert inputs['audio'].shape == (1, 64, 51)
    assert inputs['audio'].dtype == torch.float32
    assert inputs['visual'].shape == (3, 3, 8, 8)
    assert inputs['visual'].dtype == torch.uint8
    assert isinstance(ds, DataSample)
    assert ds.gt_label.tolist() == [4]
    assert ds.sample_id == 'p0' and ds.sample_idx == 9
    assert ds.modality_mask.dtype == torch.bool
    assert ds.modality_mask.tolist() == [True, True]
    assert ds.erased.tolist() == [False, False]

    results.update(visual=np.zeros((3, 8, 8, 3), np.float64),
                   modality_mask=dict(audio=False),
                   erased=dict(visual=True))
    packed = PackMultimodalInputs(modalities=('visual', 'audio'))(results)
    ds = packed['data_samples']
    assert packed['inputs']['visual'].dtype == torch.float32
    assert ds.modality_mask.tolist() == [True, False]  # order of modalities
    assert ds.erased.tolist() == [True, False]
    # A unimodal pack ignores the other modality's flags.
    packed = PackMultimodalInputs(modalities=('audio', ))(results)
    assert packed['data_samples'].modality_mask.tolist() == [False]
    assert packed['data_samples'].erased.tolist() == [False]
    assert set(packed['inputs']) == {'audio'}


def test_pack_visual_layout():
    clip = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    out = PackMultimodalInputs(modalities=('visual', ))(dict(visual=clip))
    tensor = out['inputs']['visual']
    assert tensor.shape == (3, 2, 3, 4)
    assert tensor[1, 1, 2, 3].item() == clip[1, 2, 3, 1]


def test_pack_missing_modality():
    with pytest.raises(KeyError, match="sample 'm1'.*'visual'"):
        PackMultimodalInputs()(dict(audio=np.zeros((2, 2)), sample_id='m1'))

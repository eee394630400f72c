"""The batched data path: torch front-ends against librosa on real clips,
AV-Digits' noise on the batch, the deferral mechanism and its guard.

Tolerances (float32 on both sides):
- log-mel, z-scored (AV-Digits): |difference| <= 1e-4 (measured 8e-6);
- log-STFT (OGM-GE's CREMA-D setting): magnitudes within 1e-6 of the clip's
  peak magnitude (measured 2.4e-7), log values within 1e-3 on bins above
  1e-4 of the peak (measured 2e-4). Below that the bins are float32 rounding
  noise of zero-padded silence, where log(|X| + 1e-7) differs in any two FFT
  implementations.
"""
import glob

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from conftest import REPO, TINY_BUILD

from armlab.datasets.transforms.audio_features import (fit_length,
                                                       log_mel_spectrogram,
                                                       stft_log_spectrogram)
from armlab.datasets.transforms.batch_audio import (BatchSpectrogram,
                                                    batch_log_mel,
                                                    batch_log_stft)
from armlab.datasets.transforms.deferred import check_deferred_order
from armlab.datasets.transforms.imbalance import (ACTIVE_LEVEL,
                                                  ERASED_AUDIO_STD,
                                                  BatchAVDigitsImbalance)
from armlab.registry import DATASETS, MODELS, TRANSFORMS

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


def _real_clips(shared_data, tiny_root, rate, num_samples, tile=1):
    """Ten FSDD recordings (8 kHz, resampled as LoadAudio does) and ten
    espeak clips of the tiny build, cut to ``num_samples``."""
    import librosa
    import soundfile as sf
    fsdd = sorted(glob.glob(str(shared_data / 'fsdd' / 'recordings' /
                                '*.wav')))[::250]
    espeak = sorted(glob.glob(str(tiny_root / 'audio' / 'train' /
                                  '*.wav')))[:10]
    waves = []
    for path in fsdd + espeak:
        wave, file_rate = sf.read(path, dtype='float32')
        if file_rate != rate:
            wave = librosa.resample(wave, orig_sr=file_rate, target_sr=rate)
        waves.append(fit_length(wave, num_samples, tile))
    assert len(waves) == 20
    return np.stack(waves).astype(np.float32)


def test_log_mel_matches_librosa_on_real_clips(shared_data, tiny_root):
    waves = _real_clips(shared_data, tiny_root, 16000, 16000)
    ref = np.stack([log_mel_spectrogram(w) for w in waves])
    got = batch_log_mel(torch.from_numpy(waves)).numpy()
    assert got.shape == ref.shape == (20, 64, 51)
    assert np.abs(got - ref).max() <= 1e-4


def test_log_stft_matches_librosa_on_real_clips(shared_data, tiny_root):
    waves = _real_clips(shared_data, tiny_root, 22050, 66150, tile=3)
    ref = np.stack([stft_log_spectrogram(w) for w in waves])
    got = batch_log_stft(torch.from_numpy(waves)).numpy()
    assert got.shape == ref.shape == (20, 257, 188)
    mag_ref = np.exp(ref.astype(np.float64)) - 1e-7
    mag_got = np.exp(got.astype(np.float64)) - 1e-7
    peak = mag_ref.max(axis=(1, 2), keepdims=True)
    assert (np.abs(mag_got - mag_ref) / peak).max() <= 1e-6
    loud = mag_ref > 1e-4 * peak
    assert loud.mean() > 0.1
    assert np.abs(got - ref)[loud].max() <= 1e-3


def _dataset(root, preset, on_batch, split='train', cache=True):
    cfg = Config.fromfile(str(CONFIG))
    dataset = dict(cfg[f'{split}_dataloader'].dataset)
    dataset.update(data_root=str(root), build_cfg=dict(TINY_BUILD),
                   preset=preset, on_batch=on_batch, cache=cache)
    return DATASETS.build(dataset)


def _inputs(dataset, indices, training=True):
    cfg = Config.fromfile(str(CONFIG))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batch = pseudo_collate([dataset[i] for i in indices])
    return preprocessor(batch, training)


def test_clean_preset_both_paths_give_the_same_inputs(tiny_root):
    # Without noise the paths differ only in librosa against torch.
    new = _inputs(_dataset(tiny_root, 'clean', True, 'val'), range(8))
    old = _inputs(_dataset(tiny_root, 'clean', False, 'val', cache=False),
                  range(8))
    for m in ('audio', 'visual'):
        assert new['inputs'][m].shape == old['inputs'][m].shape
    assert (new['inputs']['audio'] - old['inputs']['audio']).abs().max() \
        <= 1e-4
    assert torch.equal(new['inputs']['visual'], old['inputs']['visual'])


def test_noisy_presets_same_erasures_and_noise_levels(tiny_root):
    knobs = dict(p_erase_audio=0.3, p_erase_visual=0.3)
    cfg = Config.fromfile(str(CONFIG))
    results = {}
    for on_batch in (True, False):
        spec = dict(cfg.val_dataloader.dataset)
        spec.update(data_root=str(tiny_root), build_cfg=dict(TINY_BUILD),
                    preset='audio-dominant', imbalance=knobs,
                    on_batch=on_batch)
        dataset = DATASETS.build(spec)
        results[on_batch] = _inputs(dataset, range(20), training=False)
    erased = {k: torch.stack([ds.erased for ds in r['data_samples']])
              for k, r in results.items()}
    assert torch.equal(erased[True], erased[False])
    assert erased[True].any(0).all()  # some of each modality erased
    kept = ~erased[True][:, 1]
    # Pixel noise of sigma 3.0 (0-255 scale, then / 78): same spread.
    stds = [float(r['inputs']['visual'][kept].std()) for r in
            results.values()]
    assert stds[0] == pytest.approx(stds[1], rel=0.05)
    assert stds[0] > 5.0  # the noise, not the digit, dominates
    # And different draws: the two paths use different generators.
    assert not torch.equal(results[True]['inputs']['visual'],
                           results[False]['inputs']['visual'])


def _batch_args(n, erase_audio=(), erase_visual=()):
    return [dict(sample_idx=i, erased=dict(audio=i in erase_audio,
                                           visual=i in erase_visual))
            for i in range(n)]


@pytest.mark.parametrize('snr_db', [-5.0, 0.0, 10.0])
def test_batch_noise_hits_the_requested_snr(snr_db):
    t = torch.arange(160000) / 16000.0
    clean = (0.5 * torch.sin(2 * np.pi * 440 * t)).repeat(3, 1)
    clean[:, :8000] = 0.0  # silence, not counted as signal
    op = BatchAVDigitsImbalance(keys=('audio', ), audio_snr_db=snr_db)
    out = op(dict(audio=clean.clone()), _batch_args(3))['audio']
    noise = (out - clean).double()
    active = clean.abs() > ACTIVE_LEVEL
    signal = (clean.double()[active] ** 2).mean()
    measured = 10 * torch.log10(signal / noise.pow(2).mean(1))
    assert torch.allclose(measured, torch.full((3, ), snr_db,
                                               dtype=torch.float64),
                          atol=0.1)


def test_batch_noise_depends_on_the_sample_alone():
    op = BatchAVDigitsImbalance(audio_snr_db=0.0, visual_noise_std=0.5,
                                noise_seed=3, split='val')
    waves = torch.rand(4, 1600) - 0.5
    frames = torch.full((4, 3, 1, 8, 8), 100, dtype=torch.uint8)
    args = _batch_args(4)
    a = op(dict(audio=waves, visual=frames), args)
    # Sample 2 alone, and the batch reversed: the same rows.
    b = op(dict(audio=waves[2:3], visual=frames[2:3]), args[2:3])
    c = op(dict(audio=waves.flip(0), visual=frames.flip(0)), args[::-1])
    for m in ('audio', 'visual'):
        assert torch.equal(a[m][2:3], b[m])
        assert torch.equal(a[m], c[m].flip(0))
        assert not torch.equal(a[m][0], a[m][1])
    other = BatchAVDigitsImbalance(audio_snr_db=0.0, visual_noise_std=0.5,
                                   noise_seed=3, split='test')
    d = other(dict(audio=waves, visual=frames), args)
    assert not torch.equal(a['audio'], d['audio'])


def test_batch_erasure_fills():
    op = BatchAVDigitsImbalance(audio_snr_db=0.0, visual_noise_std=1.0)
    waves = torch.full((4, 16000), 0.3)
    frames = torch.full((4, 3, 1, 8, 8), 200, dtype=torch.uint8)
    out = op(dict(audio=waves, visual=frames),
             _batch_args(4, erase_audio={1}, erase_visual={2}))
    assert out['audio'][1].std().item() == pytest.approx(ERASED_AUDIO_STD,
                                                         rel=0.05)
    assert out['audio'][1].mean().abs().item() < 1e-3
    assert out['audio'][0].std().item() > 0.1  # 0 dB noise on the others
    assert torch.count_nonzero(out['visual'][2]) == 0
    assert out['visual'][3].std().item() > 100


def test_unknown_front_end_and_bad_shapes_are_named():
    with pytest.raises(ValueError, match='kind'):
        BatchSpectrogram(kind='mfcc')
    with pytest.raises(ValueError, match=r'\(B, N\)'):
        BatchSpectrogram()(dict(audio=torch.zeros(2, 1, 64, 51)), [{}, {}])
    with pytest.raises(ValueError, match='split'):
        BatchAVDigitsImbalance(split='dev')


def test_a_per_sample_step_after_a_deferred_one_is_refused():
    deferred = TRANSFORMS.build(dict(type='AVDigitsImbalance', on_batch=True))
    front_end = TRANSFORMS.build(dict(type='AudioSpectrogram'))
    pack = TRANSFORMS.build(dict(type='PackMultimodalInputs'))
    with pytest.raises(ValueError,
                       match='AudioSpectrogram.*AVDigitsImbalance'):
        check_deferred_order([deferred, front_end, pack])
    front_end.on_batch = True
    check_deferred_order([deferred, front_end, pack])  # all deferred: fine
    check_deferred_order([TRANSFORMS.build(dict(type='AVDigitsImbalance')),
                          TRANSFORMS.build(dict(type='AudioSpectrogram',
                                                on_batch=True)), pack])


def test_a_batch_from_two_pipelines_is_refused(tiny_root):
    new = _dataset(tiny_root, 'audio-dominant', True, 'val')
    other = _dataset(tiny_root, 'visual-dominant', True, 'val')
    batch = pseudo_collate([new[0], other[1]])
    cfg = Config.fromfile(str(CONFIG))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    with pytest.raises(ValueError, match='deferred different batch steps'):
        preprocessor(batch, False)


def test_deferred_audio_travels_as_a_waveform(tiny_root):
    item = _dataset(tiny_root, 'audio-dominant', True, 'val')[0]
    assert item['inputs']['audio'].shape == (16000, )
    assert item['inputs']['visual'].dtype == torch.uint8
    steps = item['data_samples'].deferred
    assert [spec['type'] for spec, _ in steps] == [
        'BatchAVDigitsImbalance', 'BatchSpectrogram']


@pytest.mark.parametrize('n_fft, hop, win, length', [
    (512, 320, 400, 16000), (512, 353, None, 66150), (256, 128, None, 999)])
def test_framed_stft_equals_torch_stft(n_fft, hop, win, length):
    """The framing + rfft STFT is torch.stft's centred, zero-padded one
    (window padded to n_fft), in (B, T, F) layout."""
    from armlab.datasets.transforms.batch_audio import _stft
    waves = torch.randn(3, length, generator=torch.Generator().manual_seed(0))
    window = torch.hann_window(win or n_fft, periodic=True)
    reference = torch.stft(waves, n_fft=n_fft, hop_length=hop,
                           win_length=win or n_fft, window=window,
                           center=True, pad_mode='constant',
                           return_complex=True)
    ours = _stft(waves, n_fft, hop, win)
    assert ours.shape == reference.transpose(1, 2).shape
    torch.testing.assert_close(ours, reference.transpose(1, 2),
                               rtol=1e-5, atol=1e-4)

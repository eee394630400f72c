"""Corruptions: level 0 is the identity, severity grows with the level,
draws are per-sample seeded, and the pipeline step checks its domain."""
import numpy as np
import pytest

from armlab.robustness.transforms import CorruptModality
from armlab.robustness.corruptions import (CORRUPTIONS, apply_corruption,
                                           corruption_rng, get_corruption)

LEVELS = (0.2, 0.5, 0.8, 1.0)


def rng(level=0.5, name='x'):
    return corruption_rng(1111, 'sample', name, level, 'm')


def corrupt(kind, name, x, level, **params):
    return apply_corruption(get_corruption(kind, name), x, level, rng(level),
                            **params)


def speech(seconds=2.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def smooth_clip(size=64, frames=2):
    """A smooth image with edges (JPEG and blur change it measurably)."""
    y, x = np.mgrid[0:size, 0:size] / size
    img = 0.5 + 0.4 * np.sin(6 * x) * np.cos(5 * y)
    img[size // 4:size // 2, size // 4:size // 2] = 1.0
    clip = np.stack([img, img[::-1], img.T], -1)[None].repeat(frames, 0)
    return (clip * 255).astype(np.uint8)


def example(kind, domain):
    if domain == 'waveform':
        return speech(0.5)
    if domain == 'spectrogram':
        return np.random.default_rng(0).normal(size=(8, 20)).astype(
            np.float32)
    if domain == 'frames':
        return smooth_clip(16)
    if domain == 'text':
        return 'the quick brown fox jumps over the lazy dog'
    return np.array([101, 5, 6, 7, 102, 0])


@pytest.mark.parametrize(
    'corruption', [c for k in CORRUPTIONS.values() for c in k.values()],
    ids=lambda c: f'{c.kind}-{c.name}')
def test_level_zero_is_the_identity(corruption):
    x = example(corruption.kind, corruption.domain)
    assert apply_corruption(corruption, x, 0.0, rng()) is x
    if corruption.name == 'background':
        return  # needs noise files
    out = apply_corruption(corruption, x, 1.0, rng(1.0))
    assert np.shape(out) == np.shape(x) or corruption.domain == 'text'


def snr_db(clean, noisy):
    noise = noisy.astype(np.float64) - clean
    return 10 * np.log10(np.mean(clean.astype(np.float64)**2) /
                         np.mean(noise**2))


def test_awgn_snr_falls_with_the_level():
    wave = speech()
    snrs = [snr_db(wave, corrupt('audio', 'awgn', wave, lv)) for lv in LEVELS]
    assert np.all(np.diff(snrs) < 0)
    for lv, snr in zip(LEVELS, snrs):
        assert abs(snr - (20 - 30 * lv)) < 0.2


@pytest.mark.parametrize('name', ['dropout_random', 'dropout_structured'])
def test_audio_dropout_zeroes_the_level_fraction(name):
    wave = speech(seconds=20.0) + 0.6  # no natural zeros
    fractions = [np.mean(corrupt('audio', name, wave, lv, sample_rate=16000)
                         == 0) for lv in LEVELS]
    assert np.all(np.diff(fractions) > 0)
    tolerance = 0.01 if name == 'dropout_random' else 0.15  # 200 windows
    assert np.allclose(fractions, LEVELS, atol=tolerance)
    if name == 'dropout_structured':  # whole 100-ms windows
        out = corrupt('audio', name, wave, 0.5, sample_rate=16000)
        windows = (out == 0).reshape(-1, 1600)
        assert np.all(windows.all(axis=1) | ~windows.any(axis=1))


@pytest.mark.parametrize('name,axis', [('time_mask', 1), ('freq_mask', 0)])
def test_spectrogram_masks_cover_the_level_fraction(name, axis):
    spec = np.random.default_rng(0).normal(size=(40, 50)).astype(np.float32)
    for lv in LEVELS:
        out = corrupt('audio', name, spec, lv)
        changed = (out != spec).any(axis=1 - axis)
        assert changed.sum() == round(lv * spec.shape[axis])
        assert np.all(np.diff(np.flatnonzero(changed)) == 1)  # one block


def test_visual_statistics_move_monotonically():
    clip = smooth_clip()
    x = clip.astype(np.float32)

    def stat(name, fn):
        return [fn(corrupt('visual', name, clip, lv)) for lv in LEVELS]

    noise = stat('gaussian', lambda o: np.std(o - x))
    assert np.all(np.diff(noise) > 0)
    sp = stat('salt_pepper', lambda o: np.mean((o == 0) | (o == 255)))
    assert np.all(np.diff(sp) > 0)
    assert abs(sp[-1] - 1.0) < 1e-6
    spread = stat('contrast', lambda o: np.std(o, axis=(1, 2, 3)).mean())
    base = np.std(x, axis=(1, 2, 3)).mean()
    assert np.allclose(spread, [(1 - lv) * base for lv in LEVELS], atol=1e-2)
    sharp = stat('blur', lambda o: np.abs(np.diff(o, axis=2)).mean())
    assert np.all(np.diff(sharp) < 0)
    occluded = stat('occlusion', lambda o: np.mean((o == 0).all(-1)))
    assert np.all(np.diff(occluded) > 0)
    assert np.allclose(occluded, LEVELS, atol=0.03)
    error = stat('jpeg', lambda o: np.mean((o - x)**2))
    assert np.all(np.diff(error) > 0)


def test_frames_keep_the_scale_and_an_unclipped_range():
    clip = smooth_clip(16).astype(np.float32)
    clip[0, 0, 0, 0] = 600.0  # a dataset's unclipped noise
    clip[0, 0, 1, 0] = -300.0
    out = corrupt('visual', 'contrast', clip, 0.5)
    assert out.dtype == np.float32
    assert out.max() <= 600.0 and out.min() >= -300.0
    assert out.max() > 255.0  # not cut to [0, 255]


def test_text_corruptions_grow_with_the_level():
    words = ' '.join(['robustness'] * 2000)
    changed = [np.mean([w != 'robustness' for w in corrupt(
        'text', 'typos', words, lv).split()]) for lv in LEVELS]
    assert np.all(np.diff(changed) > 0)
    assert abs(changed[-1] - 1.0) < 0.05  # a few typos undo themselves
    kept = [len(corrupt('text', 'word_dropout', words, lv).split()) / 2000
            for lv in LEVELS]
    assert np.allclose(kept, [1 - lv for lv in LEVELS], atol=0.05)
    assert corrupt('text', 'sticky_keys', 'ab', 1.0) in ('aab', 'abb')
    ids = np.array([101] + [7] * 1000 + [102, 0, 0])
    out = corrupt('text', 'token_dropout', ids, 0.3)
    assert out[0] == 101 and out[1001] == 102 and (out[1002:] == 0).all()
    assert abs(np.mean(out[1:1001] == 100) - 0.3) < 0.06


def test_pipeline_step_is_seeded_per_sample_and_checks_its_domain():
    def run(sample_id, seed=1111):
        step = CorruptModality('gaussian', modality='visual', level=0.5,
                               seed=seed)
        return step(dict(sample_id=sample_id,
                         visual=smooth_clip(8)))['visual']

    assert np.array_equal(run('a'), run('a'))
    assert not np.array_equal(run('a'), run('b'))
    assert not np.array_equal(run('a'), run('a', seed=2))
    clean = dict(sample_id='a', visual=smooth_clip(8))
    assert CorruptModality('gaussian', modality='visual', level=0.0)(
        dict(clean))['visual'] is clean['visual']
    with pytest.raises(ValueError, match='before the audio front-end'):
        CorruptModality('awgn', modality='audio', level=0.5)(
            dict(sample_id='a', audio=np.zeros((4, 5), np.float32)))
    with pytest.raises(KeyError, match='unknown visual corruption'):
        CorruptModality('nope', modality='visual')
    with pytest.raises(ValueError, match='noise_files'):
        corrupt('audio', 'background', speech(0.1), 0.5)


def test_sweep_inserts_each_step_where_its_domain_lives():
    from mmengine.config import Config

    from conftest import REPO
    from armlab.robustness.sweep import (SweepSpec, sweep_transform,
                                         with_transform)
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' /
                              'avdigits.py'))
    loader = cfg.test_dataloader

    def placed(spec, point):
        transform, where = sweep_transform(spec, point, ('audio', 'visual'))
        pipeline = with_transform(loader, transform, where,
                                  spec.modality)['dataset']['pipeline']
        i = [t['type'] for t in pipeline].index(transform['type'])
        return pipeline, pipeline[i + 1]['type']

    wave = SweepSpec('corruption', 'awgn', [0, 1], modality='audio')
    assert placed(wave, 0.5)[1] == 'AudioSpectrogram'
    for spec in (SweepSpec('corruption', 'time_mask', [0, 1],
                           modality='audio'),
                 SweepSpec('corruption', 'jpeg', [0, 1], modality='visual'),
                 SweepSpec('missing', 'TMFM', [0, 1])):
        assert placed(spec, 0.5)[1] == 'PackMultimodalInputs'
    informed = SweepSpec('missing', 'RMFM', [0, 1], inform_model=True)
    pipeline, _ = placed(informed, 0.5)
    assert 'missing_mask' in pipeline[-1]['meta_keys']
    assert len(loader.dataset.pipeline) == 6  # the config is left alone
    text = dict(dataset=dict(pipeline=[
        dict(type='LoadText'), dict(type='Tokenize', vocab_file='v.json'),
        dict(type='PackMultimodalInputs', modalities=('text', ))]))
    typo = SweepSpec('corruption', 'typos', [0, 1], modality='text')
    transform, where = sweep_transform(typo, 0.5, ('text', ))
    out = with_transform(text, transform, where, 'text')['dataset']
    assert [t['type'] for t in out['pipeline']][1:3] == ['CorruptModality',
                                                         'Tokenize']
    with pytest.raises(ValueError, match='needs RMFM'):
        SweepSpec('missing', 'RMM', [0, 1], modality='audio')

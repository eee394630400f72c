"""Tests of the load-time imbalance knobs of AV-Digits."""
import numpy as np
import pytest

from armlab.datasets.avdigits.presets import get_preset, resolve_knobs
from armlab.datasets.transforms.imbalance import (ACTIVE_LEVEL,
                                                  AVDigitsImbalance)


def _results(idx=0, split='train', seconds=1.0, **knobs):
    t = np.arange(int(16000 * seconds)) / 16000.0
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    wave[:1000] = 0.0  # silence that must not count as signal
    visual = np.full((3, 32, 32, 3), 100, np.uint8)
    return dict(audio=wave, visual=visual, sample_idx=idx,
                imbalance={**resolve_knobs(None, knobs), 'split': split})


def test_same_sample_same_output():
    knobs = dict(audio_snr_db=0.0, visual_noise_std=0.5, p_erase_audio=0.5,
                 p_erase_visual=0.5, noise_seed=7)
    a = AVDigitsImbalance()(_results(5, 'test', **knobs))
    b = AVDigitsImbalance()(_results(5, 'test', **knobs))
    np.testing.assert_array_equal(a['audio'], b['audio'])
    np.testing.assert_array_equal(a['visual'], b['visual'])
    assert a['erased'] == b['erased']
    c = AVDigitsImbalance()(_results(6, 'test', **knobs))
    d = AVDigitsImbalance()(_results(5, 'val', **knobs))
    assert not np.array_equal(a['visual'], c['visual'])
    assert not np.array_equal(a['visual'], d['visual'])


@pytest.mark.parametrize('snr_db', [-10.0, -5.0, 0.0, 10.0])
def test_snr_matches_request(snr_db):
    clean = _results(seconds=10.0)['audio']
    out = AVDigitsImbalance()(_results(seconds=10.0,
                                       audio_snr_db=snr_db))['audio']
    assert out.dtype == np.float32
    noise = out.astype(np.float64) - clean
    active = clean[np.abs(clean) > ACTIVE_LEVEL].astype(np.float64)
    measured = 10 * np.log10(np.mean(active ** 2) / np.mean(noise ** 2))
    assert abs(measured - snr_db) < 0.5


def test_visual_noise_std_matches_sigma():
    res = _results(visual_noise_std=0.5)
    res['visual'] = np.zeros((3, 64, 64, 3), np.uint8)
    out = AVDigitsImbalance()(res)['visual']
    assert out.dtype == np.float32
    assert out.std() == pytest.approx(0.5 * 255, rel=0.03)
    assert out.min() < 0  # not clipped


def test_erasure_frequency_and_content():
    p, n = 0.3, 3000
    flags = []
    for idx in range(n):
        out = AVDigitsImbalance()(_results(idx, seconds=0.05,
                                           p_erase_audio=p))
        flags.append(out['erased']['audio'])
        assert not out['erased']['visual']
    assert abs(np.mean(flags) - p) < 0.03
    erased_idx = int(np.flatnonzero(flags)[0])
    kept_idx = int(np.flatnonzero(~np.array(flags))[0])
    again = AVDigitsImbalance()(_results(erased_idx, p_erase_audio=p,
                                         p_erase_visual=1.0))
    assert again['erased'] == {'audio': True, 'visual': True}
    assert again['audio'].std() == pytest.approx(0.003, rel=0.05)
    assert not again['visual'].any()
    kept = AVDigitsImbalance()(_results(kept_idx, p_erase_audio=p))
    assert kept['erased']['audio'] is False
    np.testing.assert_array_equal(kept['audio'], _results()['audio'])


def test_clean_preset_leaves_inputs_untouched():
    res = _results(3)
    res['imbalance'] = {**get_preset('clean'), 'split': 'test'}
    audio, visual = res['audio'].copy(), res['visual'].copy()
    out = AVDigitsImbalance()(res)
    np.testing.assert_array_equal(out['audio'], audio)
    np.testing.assert_array_equal(out['visual'], visual)
    assert out['visual'].dtype == np.uint8
    assert out['erased'] == {'audio': False, 'visual': False}


def test_presets_and_bad_knobs():
    # docs/avdigits.md values, kept for the (uncalibrated) MNIST variants;
    # the embedded variant's calibrated values: tests/datasets/test_avdigits_presets.py
    protocol = ('mnist', 'espeak')
    assert get_preset('audio-dominant', protocol)['audio_snr_db'] == 0.0
    assert get_preset('visual-dominant', protocol)['visual_noise_std'] == 0.0
    assert get_preset('complementary', protocol)['p_erase_audio'] == 0.3
    assert get_preset('balanced', protocol)['audio_snr_db'] == -5.0
    assert get_preset('complementary')['p_erase_audio'] == 0.3
    with pytest.raises(ValueError, match='unknown imbalance knob'):
        resolve_knobs('clean', dict(snr=3))
    with pytest.raises(ValueError, match='p_erase_visual'):
        resolve_knobs(None, dict(p_erase_visual=2))

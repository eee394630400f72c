"""The AV-Digits preset table and its calibration (no training here)."""
import itertools

import pytest

from armlab.datasets.avdigits import presets as P

VISUAL_SOURCES = ('sklearn', 'mnist')
AUDIO_SOURCES = ('espeak', 'fsdd')


def test_every_variant_has_every_preset():
    for variant in itertools.product(VISUAL_SOURCES, AUDIO_SOURCES):
        assert variant in P.VARIANT_PRESETS
        assert set(P.VARIANT_PRESETS[variant]) == set(P.PRESET_NAMES)
        for name in P.PRESET_NAMES:
            knobs = P.get_preset(name, variant)
            assert set(knobs) == set(P.DEFAULT_KNOBS)


@pytest.mark.parametrize('variant,name', [
    (v, n) for v in P.VARIANT_PRESETS for n in P.PRESET_NAMES])
def test_preset_values_in_range(variant, name):
    knobs = P.resolve_knobs(name, None, variant)
    snr = knobs['audio_snr_db']
    assert snr is None or -30.0 <= snr <= 40.0
    assert 0.0 <= knobs['visual_noise_std'] <= 5.0
    assert 0.0 <= knobs['p_erase_audio'] <= 1.0
    assert 0.0 <= knobs['p_erase_visual'] <= 1.0


def test_default_variant_is_the_embedded_build():
    assert P.EMBEDDED_VARIANT == ('sklearn', 'espeak')
    for name in P.PRESET_NAMES:
        assert P.get_preset(name) == P.get_preset(name, P.EMBEDDED_VARIANT)
        assert P.resolve_knobs(name) == P.get_preset(name, 'sklearn_espeak')
    assert P.PRESETS is P.VARIANT_PRESETS[P.EMBEDDED_VARIANT]


def test_variant_from_meta_and_bad_variants():
    meta = {'build': {'params': {'visual_source': 'mnist',
                                 'audio_source': 'fsdd'}}}
    assert P.variant_of(meta) == ('mnist', 'fsdd')
    assert P.variant_of({'build': {'params': {}}}) == P.EMBEDDED_VARIANT
    assert P.variant_of(['mnist', 'espeak']) == ('mnist', 'espeak')
    with pytest.raises(ValueError, match='variant'):
        P.get_preset('balanced', ('cifar', 'espeak'))
    with pytest.raises(ValueError, match='unknown AV-Digits preset'):
        P.get_preset('nope')


def test_uncalibrated_variants_keep_the_protocol_values():
    for variant in P.VARIANT_PRESETS:
        if variant in P.CALIBRATION:
            continue
        assert P.VARIANT_PRESETS[variant] == P.PROTOCOL_PRESETS


def _accuracies(variant, name):
    """Measured (audio, visual) unimodal accuracies at a preset's knobs.

    Clean audio need not be measured: the best measured SNR bounds it from
    below (accuracy only grows as the noise falls).
    """
    cal = P.CALIBRATION[variant]
    knobs = P.get_preset(name, variant)
    snr, sigma = knobs['audio_snr_db'], knobs['visual_noise_std']
    audio = (cal['audio'][snr] if snr in cal['audio'] or snr is not None
             else max(cal['audio'].values()))
    return audio, cal['visual'][sigma]


@pytest.mark.parametrize('variant', list(P.CALIBRATION))
def test_calibration_is_complete(variant):
    cal = P.CALIBRATION[variant]
    assert variant in P.VARIANT_PRESETS
    for name in P.PRESET_NAMES[1:]:  # every non-clean preset was measured
        knobs = P.get_preset(name, variant)
        assert knobs['visual_noise_std'] in cal['visual']
        assert knobs['audio_snr_db'] is None or \
            knobs['audio_snr_db'] in cal['audio']
    for acc in [*cal['audio'].values(), *cal['visual'].values()]:
        assert 0.0 <= acc <= 100.0


@pytest.mark.parametrize('variant', list(P.CALIBRATION))
def test_calibrated_presets_order_the_modalities(variant):
    cal = P.CALIBRATION[variant]
    chance = 100.0 / 10
    audio, visual = _accuracies(variant, 'audio-dominant')
    assert audio > visual + cal['min_gap'] and visual > chance + 10
    audio, visual = _accuracies(variant, 'visual-dominant')
    assert visual > audio + cal['min_gap'] and audio > chance + 10
    audio, visual = _accuracies(variant, 'balanced')
    assert abs(audio - visual) <= cal['balanced_tolerance']
    # complementary: clean audio, erased on some samples, noisy vision
    knobs = P.get_preset('complementary', variant)
    assert knobs['audio_snr_db'] is None and knobs['p_erase_audio'] == 0.3
    audio, visual = _accuracies(variant, 'complementary')
    assert visual > chance + 10 and audio > visual

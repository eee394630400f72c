"""Named imbalance settings of AV-Digits (PROTOCOLS §3.6).

A preset is only a dict of load-time knobs: the files on disk never change,
so every preset and every method sees the same benchmark. Re-calibrate the
values once per encoder width and protocol; ``balanced`` is interpolated
between measured points, not measured.
"""
from typing import Any, Dict, Optional

#: Knobs understood by ``AVDigitsImbalance`` and their neutral values.
DEFAULT_KNOBS: Dict[str, Any] = {
    'audio_snr_db': None,  # None = clean audio
    'visual_noise_std': 0.0,  # sigma on the [0, 1] image scale
    'p_erase_audio': 0.0,
    'p_erase_visual': 0.0,
    'noise_seed': 0,
}

PRESETS: Dict[str, Dict[str, Any]] = {
    'clean': {},
    'balanced': {'audio_snr_db': -5.0, 'visual_noise_std': 0.5},
    'audio-dominant': {'audio_snr_db': 0.0, 'visual_noise_std': 1.0},
    'visual-dominant': {'audio_snr_db': -10.0, 'visual_noise_std': 0.0},
    'complementary': {'audio_snr_db': None, 'p_erase_audio': 0.3,
                      'visual_noise_std': 1.0},
}


def get_preset(name: str) -> Dict[str, Any]:
    """All knobs of a preset (neutral values where the preset is silent)."""
    if name not in PRESETS:
        raise ValueError(f'unknown AV-Digits preset {name!r}; choose one of '
                         f'{sorted(PRESETS)}')
    return {**DEFAULT_KNOBS, **PRESETS[name]}


def resolve_knobs(preset: Optional[str] = None,
                  overrides: Optional[Dict[str, Any]] = None
                  ) -> Dict[str, Any]:
    """Merge neutral defaults, a preset and explicit overrides, checked."""
    knobs = get_preset(preset) if preset else dict(DEFAULT_KNOBS)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(DEFAULT_KNOBS))
    if unknown:
        raise ValueError(f'unknown imbalance knob(s) {unknown}; known: '
                         f'{sorted(DEFAULT_KNOBS)}')
    knobs.update(overrides)
    for name in ('p_erase_audio', 'p_erase_visual'):
        if not 0.0 <= float(knobs[name]) <= 1.0:
            raise ValueError(f'{name}={knobs[name]} must lie in [0, 1]')
    if float(knobs['visual_noise_std']) < 0:
        raise ValueError(f"visual_noise_std={knobs['visual_noise_std']} "
                         'must be >= 0')
    return knobs

"""Named imbalance settings of AV-Digits (docs/avdigits.md), per build.

A preset is only a dict of load-time knobs: the files on disk never change,
so every preset and every method sees the same benchmark. How hard a knob
hits a modality depends on the build, so the values are keyed by the build's
*variant*, ``(visual_source, audio_source)`` as recorded in its
``meta.json`` (``build.params``):

- ``('sklearn', 'espeak')``, the embedded default (scikit-learn's 8x8 digits
  upsampled to 32x32, espeak-ng wheel voices, held-out voices at test), is
  **calibrated for this pipeline**: the unimodal accuracies behind its
  presets are in :data:`CALIBRATION` and
  ``docs/results/avdigits_calibration.md``, written by::

      python tools/analysis/calibrate_avdigits.py \\
          --audio-snrs -5 0 -10 --visual-sigmas 1 2 3 \\
          --epochs 2 --num-train 2000 --seed 0

  (width-16 ResNet-18 unimodal configs ``configs/unimodal/*avdigits.py``,
  first 2,000 training samples, 2 epochs of the one-cycle schedule, best
  validation top-1, seed 0). Upsampled 8x8 digits are very robust to i.i.d.
  pixel noise, so the visual sigmas are much larger than the MNIST values.
- The MNIST / FSDD variants keep the starting values of docs/avdigits.md
  (:data:`PROTOCOL_PRESETS`, measured on MNIST + the espeak CLI with another
  front-end). They are **not calibrated for this pipeline**: re-run the
  calibration script on such a build before trusting the modality order.

Re-calibrate whenever the encoder width, the schedule or the front-end
changes.
"""
from typing import Any, Dict, Optional, Sequence, Tuple, Union

Variant = Tuple[str, str]

#: Knobs understood by ``AVDigitsImbalance`` and their neutral values.
DEFAULT_KNOBS: Dict[str, Any] = {
    'audio_snr_db': None,  # None = clean audio
    'visual_noise_std': 0.0,  # sigma on the [0, 1] image scale
    'p_erase_audio': 0.0,
    'p_erase_visual': 0.0,
    # Class-pair ambiguity (audio_swap.py): with this rate a sample's audio
    # is a recording of a class drawn from its group, the same for all.
    'p_swap_audio': 0.0,
    'audio_swap_groups': ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9)),
    'noise_seed': 0,
}

PRESET_NAMES = ('clean', 'balanced', 'audio-dominant', 'visual-dominant',
                'complementary', 'both-imperfect', 'pair-ambiguous')

#: The build that the configs use (``configs/_base_/datasets/avdigits.py``).
EMBEDDED_VARIANT: Variant = ('sklearn', 'espeak')

#: Starting values measured on MNIST + the espeak CLI (4 epochs, 2,000
#: train pairs), another front-end (docs/avdigits.md);
#: ``balanced`` there is interpolated, not measured.
PROTOCOL_PRESETS: Dict[str, Dict[str, Any]] = {
    'clean': {},
    'balanced': {'audio_snr_db': -5.0, 'visual_noise_std': 0.5},
    'audio-dominant': {'audio_snr_db': 0.0, 'visual_noise_std': 1.0},
    'visual-dominant': {'audio_snr_db': -10.0, 'visual_noise_std': 0.0},
    'complementary': {'audio_snr_db': None, 'p_erase_audio': 0.3,
                      'visual_noise_std': 1.0},
    'both-imperfect': {'audio_snr_db': 0.0, 'p_erase_audio': 0.1,
                       'visual_noise_std': 1.0, 'p_erase_visual': 0.1},
    'pair-ambiguous': {'audio_snr_db': None, 'p_swap_audio': 1.0,
                       'visual_noise_std': 1.0},
}

#: Measured unimodal validation top-1 (%) per knob value, per calibrated
#: variant; ``None`` as an SNR is clean audio. ``min_gap`` is the margin the
#: dominant presets keep, ``balanced_tolerance`` the largest gap of
#: ``balanced`` (both in accuracy points).
CALIBRATION: Dict[Variant, Dict[str, Any]] = {
    ('sklearn', 'espeak'): {
        'source': 'docs/results/avdigits_calibration.md',
        'epochs': 2, 'num_train': 2000, 'seed': 0,
        # audio-only model, audio_snr_db -> top-1 (clean audio not run)
        'audio': {0.0: 77.3, -5.0: 58.1, -10.0: 39.8},
        # visual-only model, visual_noise_std -> top-1 (sigma 0 not run)
        'visual': {1.0: 91.6, 2.0: 77.0, 3.0: 53.5},
        'min_gap': 10.0,
        'balanced_tolerance': 3.0,
    },
}

#: Calibrated on the embedded build (CALIBRATION above, measured top-1):
#: audio-dominant 77.3 (0 dB) vs 53.5 (sigma 3); visual-dominant 39.8
#: (-10 dB) vs 91.6 (sigma 1); balanced 77.3 (0 dB) vs 77.0 (sigma 2);
#: complementary: clean audio (>= 77.3) erased on 30 % vs 53.5 (sigma 3).
_SKLEARN_ESPEAK: Dict[str, Dict[str, Any]] = {
    'clean': {},
    'balanced': {'audio_snr_db': 0.0, 'visual_noise_std': 2.0},
    'audio-dominant': {'audio_snr_db': 0.0, 'visual_noise_std': 3.0},
    'visual-dominant': {'audio_snr_db': -10.0, 'visual_noise_std': 1.0},
    'complementary': {'audio_snr_db': None, 'p_erase_audio': 0.3,
                      'visual_noise_std': 3.0},
    # Both modalities imperfect, failing on different samples: noise and
    # erasure drawn per sample and independently per modality.
    'both-imperfect': {'audio_snr_db': -5.0, 'p_erase_audio': 0.1,
                       'visual_noise_std': 3.0, 'p_erase_visual': 0.1},
    # Class-pair ambiguity: every sample's audio is a recording of its
    # pair (0-1, 2-3, ...), so audio names the pair and only vision
    # separates within it.
    'pair-ambiguous': {'audio_snr_db': 0.0, 'p_swap_audio': 1.0,
                       'visual_noise_std': 3.0},
}

#: Preset values per build variant ``(visual_source, audio_source)``.
VARIANT_PRESETS: Dict[Variant, Dict[str, Dict[str, Any]]] = {
    ('sklearn', 'espeak'): _SKLEARN_ESPEAK,
    # Uncalibrated for this pipeline: the MNIST starting values.
    ('sklearn', 'fsdd'): PROTOCOL_PRESETS,
    ('mnist', 'espeak'): PROTOCOL_PRESETS,
    ('mnist', 'fsdd'): PROTOCOL_PRESETS,
}

#: Presets of the embedded default variant (kept for older imports).
PRESETS: Dict[str, Dict[str, Any]] = VARIANT_PRESETS[EMBEDDED_VARIANT]

VariantLike = Union[None, str, Sequence[str], Dict[str, Any]]


def variant_of(source: VariantLike = None) -> Variant:
    """Normalise a variant: None (the embedded default), a pair
    ``(visual_source, audio_source)``, ``'sklearn_espeak'`` or an AV-Digits
    ``meta.json`` dict (its ``build.params`` sources; missing ones default
    to the embedded variant's)."""
    if source is None:
        return EMBEDDED_VARIANT
    if isinstance(source, dict):
        params = (source.get('build') or {}).get('params') or {}
        return (params.get('visual_source', EMBEDDED_VARIANT[0]),
                params.get('audio_source', EMBEDDED_VARIANT[1]))
    if isinstance(source, str):
        parts = source.replace('/', '_').split('_')
        if len(parts) != 2:
            raise ValueError(f'AV-Digits variant {source!r} is not '
                             "'<visual_source>_<audio_source>'")
        return parts[0], parts[1]
    visual, audio = source
    return str(visual), str(audio)


def get_preset(name: str, variant: VariantLike = None) -> Dict[str, Any]:
    """All knobs of a preset for a build variant (neutral values where the
    preset is silent); ``variant=None`` is the embedded default build."""
    key = variant_of(variant)
    if key not in VARIANT_PRESETS:
        raise ValueError(f'no AV-Digits presets for variant {key}; known '
                         f'variants: {sorted(VARIANT_PRESETS)}')
    table = VARIANT_PRESETS[key]
    if name not in table:
        raise ValueError(f'unknown AV-Digits preset {name!r}; choose one of '
                         f'{sorted(table)}')
    return {**DEFAULT_KNOBS, **table[name]}


def resolve_knobs(preset: Optional[str] = None,
                  overrides: Optional[Dict[str, Any]] = None,
                  variant: VariantLike = None) -> Dict[str, Any]:
    """Merge neutral defaults, a preset (of ``variant``) and explicit
    overrides, checked."""
    knobs = get_preset(preset, variant) if preset else dict(DEFAULT_KNOBS)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(DEFAULT_KNOBS))
    if unknown:
        raise ValueError(f'unknown imbalance knob(s) {unknown}; known: '
                         f'{sorted(DEFAULT_KNOBS)}')
    knobs.update(overrides)
    for name in ('p_erase_audio', 'p_erase_visual', 'p_swap_audio'):
        if not 0.0 <= float(knobs[name]) <= 1.0:
            raise ValueError(f'{name}={knobs[name]} must lie in [0, 1]')
    if float(knobs['visual_noise_std']) < 0:
        raise ValueError(f"visual_noise_std={knobs['visual_noise_std']} "
                         'must be >= 0')
    return knobs

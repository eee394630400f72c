"""AV-Digits: an audio-visual digits benchmark built offline in seconds.

Importing this package does not load espeak-ng (GPL-3.0+, only executed); the
synthesiser is only started by a build with ``audio_source='espeak'``.
"""
from .builder import GENERATOR_VERSION, build_avdigits, build_params
from .presets import DEFAULT_KNOBS, PRESETS, get_preset, resolve_knobs

__all__ = [
    'GENERATOR_VERSION', 'build_avdigits', 'build_params', 'DEFAULT_KNOBS',
    'PRESETS', 'get_preset', 'resolve_knobs'
]

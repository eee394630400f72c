"""Data pipeline transforms; importing this module registers them."""
from . import batch_audio, features, image, text  # noqa: F401
from .audio_features import compute_spectrogram, fit_length
from .formatting import PackMultimodalInputs
from .frames import FramesRandomFlip, FramesRandomResizedCrop, FramesResize
from .imbalance import AVDigitsImbalance, BatchAVDigitsImbalance
from .loading import (AudioSpectrogram, LoadAudio, LoadFrames,
                      LoadSpectrogram, SampleFrames)

__all__ = [
    'compute_spectrogram', 'fit_length', 'LoadAudio', 'AudioSpectrogram',
    'LoadSpectrogram', 'SampleFrames', 'LoadFrames', 'FramesResize',
    'FramesRandomResizedCrop', 'FramesRandomFlip', 'PackMultimodalInputs',
    'AVDigitsImbalance', 'BatchAVDigitsImbalance'
]

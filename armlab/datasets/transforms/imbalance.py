"""Load-time imbalance knobs of AV-Digits (PROTOCOLS §3.5).

The corruption is drawn from a generator seeded by (noise_seed, split,
sample_idx) alone, so every method, batch order and worker count sees the
same corrupted inputs while the files on disk stay clean.
"""
from typing import Any, Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS

SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
#: |x| above which an audio sample counts as speech for the SNR.
ACTIVE_LEVEL = 0.02
#: Std of the noise floor that replaces erased speech.
ERASED_AUDIO_STD = 0.003
# Independent streams, so that one knob never shifts another's noise.
_STREAM_ERASE, _STREAM_AUDIO, _STREAM_VISUAL = 0, 1, 2


def sample_rng(noise_seed: int, split: str, sample_idx: int,
               stream: int) -> np.random.Generator:
    """The generator of one sample and one kind of corruption."""
    if split not in SPLIT_CODES:
        raise ValueError(f'unknown split {split!r} in results["imbalance"]; '
                         f'use one of {sorted(SPLIT_CODES)}')
    return np.random.default_rng(
        [int(noise_seed), SPLIT_CODES[split], int(sample_idx), stream])


def add_noise_at_snr(wave: np.ndarray, snr_db: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Add white noise so that active-signal power / noise power = SNR.

    The signal power is measured over active samples (|x| > 0.02) so that
    the silence around a short word does not make the noise weaker.
    """
    wave = np.asarray(wave, np.float32)
    active = wave[np.abs(wave) > ACTIVE_LEVEL]
    power = float(np.mean(active.astype(np.float64) ** 2)) if active.size \
        else float(np.mean(wave.astype(np.float64) ** 2))
    if power == 0.0:
        return wave
    noise_std = np.sqrt(power / 10.0 ** (float(snr_db) / 10.0))
    return (wave + noise_std * rng.standard_normal(wave.shape)).astype(
        np.float32)


@TRANSFORMS.register_module()
class AVDigitsImbalance(BaseTransform):
    """Apply AV-Digits' SNR, visual-noise and erasure knobs to one sample.

    Place it after the waveform and frames are loaded and before the
    spectrogram. Reads ``results['imbalance']`` (set by
    :class:`~armlab.datasets.AVDigitsDataset`: ``audio_snr_db``,
    ``visual_noise_std``, ``p_erase_audio``, ``p_erase_visual``,
    ``noise_seed``, ``split``) and ``results['sample_idx']``.

    Modifies ``audio`` (float32 waveform in [-1, 1]) and ``visual`` ((T, H, W,
    C), 0-255; float32 once noise is added, never clipped so that sigma keeps
    its meaning) and adds ``erased``: modality -> bool.

    Args:
        knobs: Defaults for knobs missing from ``results['imbalance']``
            (handy outside AVDigitsDataset); ``results`` wins.
    """

    def __init__(self, knobs: Optional[Dict[str, Any]] = None) -> None:
        self.knobs = dict(knobs or {})

    def transform(self, results: dict) -> dict:
        knobs = {**self.knobs, **(results.get('imbalance') or {})}
        split = knobs.get('split', 'train')
        seed = knobs.get('noise_seed', 0)
        idx = results.get('sample_idx')
        if idx is None:
            raise KeyError('AVDigitsImbalance needs results["sample_idx"] to '
                           'seed the per-sample noise')
        # Uniforms drawn whatever p is: erased sets are nested as p grows.
        draw = sample_rng(seed, split, idx, _STREAM_ERASE).random(2)
        erased = {'audio': bool(draw[0] < knobs.get('p_erase_audio', 0.0)),
                  'visual': bool(draw[1] < knobs.get('p_erase_visual', 0.0))}

        if 'audio' in results:
            results['audio'] = self._audio(results['audio'], knobs,
                                           erased['audio'],
                                           sample_rng(seed, split, idx,
                                                      _STREAM_AUDIO))
        if 'visual' in results:
            results['visual'] = self._visual(results['visual'], knobs,
                                             erased['visual'],
                                             sample_rng(seed, split, idx,
                                                        _STREAM_VISUAL))
        results['erased'] = erased
        return results

    @staticmethod
    def _audio(wave: np.ndarray, knobs: dict, erased: bool,
               rng: np.random.Generator) -> np.ndarray:
        if erased:
            return (ERASED_AUDIO_STD *
                    rng.standard_normal(np.shape(wave))).astype(np.float32)
        snr = knobs.get('audio_snr_db')
        if snr is None:
            return wave
        return add_noise_at_snr(wave, snr, rng)

    @staticmethod
    def _visual(frames: np.ndarray, knobs: dict, erased: bool,
                rng: np.random.Generator) -> np.ndarray:
        if erased:
            return np.zeros(np.shape(frames), np.float32)
        sigma = float(knobs.get('visual_noise_std') or 0.0)
        if sigma == 0.0:
            return frames
        noise = rng.normal(0.0, sigma * 255.0, np.shape(frames))
        return (np.asarray(frames, np.float32) + noise).astype(np.float32)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(knobs={self.knobs})'

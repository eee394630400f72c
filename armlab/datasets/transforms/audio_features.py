"""Audio front-ends as plain functions.

One implementation per front-end, called by the data pipeline
(:class:`AudioSpectrogram`), by the dataset builders that cache spectrograms,
and by the robustness tools, so that a cached and an on-the-fly spectrogram are
the same numbers.
"""
from functools import lru_cache
from typing import Optional

import numpy as np


def fit_length(wave: np.ndarray, num_samples: int, tile: int = 1) -> np.ndarray:
    """Tile a waveform ``tile`` times, then cut or zero-pad it to a length.

    OGM-GE's CREMA-D front-end tiles each clip 3 times and cuts it to 3 s.
    """
    if tile > 1:
        wave = np.tile(wave, tile)
    if len(wave) >= num_samples:
        return wave[:num_samples]
    return np.pad(wave, (0, num_samples - len(wave)))


def stft_log_spectrogram(wave: np.ndarray,
                         n_fft: int = 512,
                         hop_length: int = 353,
                         win_length: Optional[int] = None,
                         eps: float = 1e-7,
                         clip: bool = True) -> np.ndarray:
    """log(|STFT| + eps): OGM-GE's CREMA-D front-end (Hann window, centred).

    Returns:
        float32 array (n_fft // 2 + 1, frames); 257 x 188 for 3 s at 22,050 Hz
        with n_fft 512 and hop 353.
    """
    import librosa
    if clip:
        wave = np.clip(wave, -1.0, 1.0)
    spec = librosa.stft(wave.astype(np.float32), n_fft=n_fft,
                        hop_length=hop_length, win_length=win_length)
    return np.log(np.abs(spec) + eps).astype(np.float32)


def log_mel_spectrogram(wave: np.ndarray,
                        sample_rate: int = 16000,
                        n_fft: int = 512,
                        win_length: int = 400,
                        hop_length: int = 320,
                        n_mels: int = 64,
                        eps: float = 1e-6,
                        zscore: bool = True) -> np.ndarray:
    """Log-mel power spectrogram, z-scored per clip by default.

    The AV-Digits front-end: 64 x 51 for a 1 s window at 16 kHz.

    Returns:
        float32 array (n_mels, frames).
    """
    import librosa
    power = np.abs(
        librosa.stft(wave.astype(np.float32), n_fft=n_fft,
                     win_length=win_length, hop_length=hop_length))**2
    mel = _mel_basis(sample_rate, n_fft, n_mels) @ power
    spec = np.log(mel + eps)
    if zscore:
        spec = (spec - spec.mean()) / (spec.std() + 1e-5)
    return spec.astype(np.float32)


@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    # librosa rebuilds the filterbank on every call (most of the cost of a
    # short clip); it depends only on these three numbers.
    import librosa
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)


FRONT_ENDS = {
    'stft': stft_log_spectrogram,
    'logmel': log_mel_spectrogram,
}


def compute_spectrogram(wave: np.ndarray, kind: str = 'logmel',
                        **kwargs) -> np.ndarray:
    """Dispatch to a front-end by name (``'stft'`` or ``'logmel'``)."""
    if kind not in FRONT_ENDS:
        raise ValueError(f'unknown audio front-end {kind!r}; '
                         f'choose one of {sorted(FRONT_ENDS)}')
    return FRONT_ENDS[kind](wave, **kwargs)

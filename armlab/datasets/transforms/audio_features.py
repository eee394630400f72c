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


def kaldi_fbank(wave: np.ndarray,
                sample_rate: int = 16000,
                num_mel_bins: int = 128,
                frame_length_ms: float = 25.0,
                frame_shift_ms: float = 10.0,
                window: str = 'hanning',
                preemphasis: float = 0.97,
                low_freq: float = 20.0,
                high_freq: float = 0.0,
                use_torchaudio: Optional[bool] = None) -> np.ndarray:
    """Kaldi-compatible log-mel filterbank (``compute-fbank-feats``).

    The Kinetics-Sounds front-end (AST-style; docs/protocols.md) calls
    ``torchaudio.compliance.kaldi.fbank(htk_compat=True, use_energy=False,
    window_type='hanning', dither=0, num_mel_bins=128, frame_shift=10)``.
    torchaudio is used when installed (``use_torchaudio=None``); otherwise
    this numpy version of the same recipe runs: frames that fit entirely
    (snip edges), per-frame DC removal, pre-emphasis, a symmetric window,
    zero-padding to a power of two, power spectrum, Kaldi mel bank
    (1127 ln(1 + f/700), no Nyquist bin), log floored at float32 eps. It is
    computed in float32 like torchaudio, so the two agree to float32
    rounding, not bit-for-bit.

    Returns:
        float32 array (num_mel_bins, frames): frequency first, as every
        armlab spectrogram (torchaudio returns it transposed).
    """
    if use_torchaudio is None:
        try:
            import torchaudio  # noqa: F401
            use_torchaudio = True
        except ImportError:
            use_torchaudio = False
    if use_torchaudio:
        import torch
        from torchaudio.compliance import kaldi
        feats = kaldi.fbank(
            torch.as_tensor(np.asarray(wave, np.float32))[None],
            htk_compat=True, sample_frequency=float(sample_rate),
            use_energy=False, window_type=window, dither=0.0,
            num_mel_bins=num_mel_bins, frame_length=frame_length_ms,
            frame_shift=frame_shift_ms, preemphasis_coefficient=preemphasis,
            low_freq=low_freq, high_freq=high_freq)
        return np.ascontiguousarray(feats.numpy().T, dtype=np.float32)
    wave = np.asarray(wave, np.float32)
    shift = int(sample_rate * frame_shift_ms * 0.001)
    size = int(sample_rate * frame_length_ms * 0.001)
    padded = 1 << (size - 1).bit_length()
    if len(wave) < size:
        raise ValueError(f'kaldi_fbank: {len(wave)} samples are fewer than '
                         f'one {frame_length_ms} ms frame ({size})')
    count = 1 + (len(wave) - size) // shift
    frames = np.lib.stride_tricks.as_strided(
        wave, (count, size), (shift * wave.strides[0], wave.strides[0]))
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - np.float32(preemphasis) * previous
    frames = frames * _kaldi_window(window, size)
    spectrum = np.fft.rfft(frames, n=padded, axis=1)
    power = (np.abs(spectrum) ** 2).astype(np.float32)
    mel = power @ _kaldi_mel_banks(num_mel_bins, padded, float(sample_rate),
                                   low_freq, high_freq).T
    eps = np.finfo(np.float32).eps
    return np.log(np.maximum(mel, eps)).T.astype(np.float32)


def _kaldi_window(window: str, size: int) -> np.ndarray:
    """Kaldi's symmetric analysis windows (torch ``periodic=False``)."""
    n = np.arange(size, dtype=np.float64)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / (size - 1))
    windows = {
        'hanning': hann,
        'povey': hann ** 0.85,
        'hamming': 0.54 - 0.46 * np.cos(2 * np.pi * n / (size - 1)),
        'rectangular': np.ones(size),
    }
    if window not in windows:
        raise ValueError(f'kaldi_fbank: unknown window {window!r}; choose '
                         f'one of {sorted(windows)}')
    return windows[window].astype(np.float32)


@lru_cache(maxsize=8)
def _kaldi_mel_banks(num_bins: int, padded: int, sample_rate: float,
                     low_freq: float, high_freq: float) -> np.ndarray:
    """(num_bins, padded // 2 + 1) triangular filters on Kaldi's mel scale,
    zero on the Nyquist bin."""
    def mel(freq):
        return 1127.0 * np.log(1.0 + np.asarray(freq) / 700.0)
    nyquist = 0.5 * sample_rate
    if high_freq <= 0.0:
        high_freq += nyquist
    if not 0.0 <= low_freq < high_freq <= nyquist:
        raise ValueError(f'kaldi_fbank: need 0 <= low_freq ({low_freq}) < '
                         f'high_freq ({high_freq}) <= Nyquist ({nyquist})')
    low, high = mel(low_freq), mel(high_freq)
    delta = (high - low) / (num_bins + 1)
    left = low + np.arange(num_bins)[:, None] * delta
    center, right = left + delta, left + 2 * delta
    fft_mel = mel(sample_rate / padded * np.arange(padded // 2))[None]
    up = (fft_mel - left) / (center - left)
    down = (right - fft_mel) / (right - center)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1))).astype(np.float32)


def scipy_log_spectrogram(wave: np.ndarray,
                          sample_rate: int = 22050,
                          nperseg: int = 512,
                          noverlap: int = 353,
                          eps: float = 1e-7,
                          clip: bool = True,
                          zscore: bool = True) -> np.ndarray:
    """log(PSD + eps) from ``scipy.signal.spectrogram``, z-scored per clip:
    the AVE front-end (default Tukey window, density scaling, constant
    detrend).

    Returns:
        float32 array (nperseg // 2 + 1, frames); 257 x 1004 for 160,000
        samples.
    """
    from scipy import signal
    wave = np.asarray(wave, np.float32)
    if clip:
        wave = np.clip(wave, -1.0, 1.0)
    _, _, spec = signal.spectrogram(wave, sample_rate, nperseg=nperseg,
                                    noverlap=noverlap)
    spec = np.log(spec + eps)
    if zscore:
        spec = np.divide(spec - np.mean(spec), np.std(spec) + 1e-9)
    return spec.astype(np.float32)


FRONT_ENDS = {
    'stft': stft_log_spectrogram,
    'logmel': log_mel_spectrogram,
    'fbank': kaldi_fbank,
    'scipy': scipy_log_spectrogram,
}


def compute_spectrogram(wave: np.ndarray, kind: str = 'logmel',
                        **kwargs) -> np.ndarray:
    """Dispatch to a front-end by name (a key of ``FRONT_ENDS``)."""
    if kind not in FRONT_ENDS:
        raise ValueError(f'unknown audio front-end {kind!r}; '
                         f'choose one of {sorted(FRONT_ENDS)}')
    return FRONT_ENDS[kind](wave, **kwargs)

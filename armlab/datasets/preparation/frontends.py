"""The field's audio front-ends, from a WAV file to a cached (F, T) array.

Each recipe reproduces one benchmark's reference pipeline (docs/protocols.md):
how the file is loaded (librosa, at which rate), tiled and cut, which
spectrogram of :mod:`armlab.datasets.transforms.audio_features` is taken and
how it is normalised. The spectrograms themselves live in that module, so an
on-the-fly and a cached spectrogram are the same numbers.
"""
from typing import Callable, Dict, NamedTuple, Optional

import numpy as np

from armlab.datasets.transforms.audio_features import (compute_spectrogram,
                                                       fit_length)

__all__ = ['FrontEnd', 'FRONT_ENDS', 'get_front_end', 'compute_front_end',
           'write_front_end', 'warm_up_librosa']

#: AudioSet statistics used to normalise the Kinetics-Sounds fbank.
KS_FBANK_MEAN = -4.503877
KS_FBANK_STD = 5.141276


class FrontEnd(NamedTuple):
    """A named audio front-end.

    Attributes:
        name: Registry key.
        load_rate: librosa load rate; ``None`` keeps the file's rate.
        transform: float32 waveform, rate -> float32 (F, T).
        shape: (F, T) of the output (``None`` where it depends on the clip).
        description: One line for docs and ``meta.json``.
    """

    name: str
    load_rate: Optional[int]
    transform: Callable[[np.ndarray, int], np.ndarray]
    shape: Optional[tuple]
    description: str


def _cremad(wave: np.ndarray, rate: int) -> np.ndarray:
    # OGM-GE: tile x3, cut to 3 s at 22,050 Hz, clip, STFT 512/353, log.
    wave = fit_length(wave, 3 * rate, tile=3)
    return compute_spectrogram(wave, 'stft', n_fft=512, hop_length=353)


def _kinetics_sounds(wave: np.ndarray, rate: int,
                     num_frames: int = 1024) -> np.ndarray:
    # AST-style: mean removed, Kaldi fbank 128, zero-pad/cut to 1,024 frames,
    # then (x - mean) / (2 std) with the AudioSet statistics.
    wave = wave - wave.mean()
    fbank = compute_spectrogram(wave, 'fbank', sample_rate=rate,
                                num_mel_bins=128)
    frames = fbank.shape[1]
    if frames < num_frames:
        fbank = np.pad(fbank, ((0, 0), (0, num_frames - frames)))
    fbank = fbank[:, :num_frames]
    return ((fbank - KS_FBANK_MEAN) / (2 * KS_FBANK_STD)).astype(np.float32)


def _ave(wave: np.ndarray, rate: int) -> np.ndarray:
    # OGM-GE AVE: 22,050 Hz (librosa's default), tile x10, cut to 160,000
    # samples, clip, scipy PSD spectrogram 512/353, log, per-clip z-score.
    wave = fit_length(wave, 160000, tile=10)
    return compute_spectrogram(wave, 'scipy', sample_rate=rate, nperseg=512,
                               noverlap=353)


def _vggsound(wave: np.ndarray, rate: int) -> np.ndarray:
    # OGM-GE VGGSound: 16 kHz, doubled until >= 10 s, a 5-s crop, clip,
    # STFT 256/128, log. The reference crop starts at a random offset in
    # [0, 5 s] (also at test); the cache takes the centre of that range.
    if len(wave) == 0:
        raise ValueError('empty waveform')
    while len(wave) < 10 * rate:
        wave = np.tile(wave, 2)
    start = 5 * rate // 2
    wave = wave[start:start + 5 * rate]
    return compute_spectrogram(wave, 'stft', n_fft=256, hop_length=128)


def _logmel(wave: np.ndarray, rate: int) -> np.ndarray:
    # AV-Digits' front-end: 64-band log-mel, z-scored per clip.
    return compute_spectrogram(wave, 'logmel', sample_rate=rate)


FRONT_ENDS: Dict[str, FrontEnd] = {f.name: f for f in (
    FrontEnd('cremad_stft', 22050, _cremad, (257, 188),
             'librosa 22,050 Hz, tile x3, 3 s, STFT 512/353, '
             'log(|X| + 1e-7) (OGM-GE CREMA-D)'),
    FrontEnd('ks_fbank', None, _kinetics_sounds, (128, 1024),
             'native rate, Kaldi fbank 128 x 1,024 frames, AudioSet '
             'normalisation (Kinetics-Sounds)'),
    FrontEnd('ave_scipy', 22050, _ave, (257, 1004),
             'librosa 22,050 Hz, tile x10, 160,000 samples, scipy PSD '
             '512/353, log, z-score (OGM-GE AVE)'),
    FrontEnd('vggsound_stft', 16000, _vggsound, (129, 626),
             'librosa 16 kHz, tiled to >= 10 s, centred 5-s crop, STFT '
             '256/128, log(|X| + 1e-7) (OGM-GE VGGSound)'),
    FrontEnd('logmel', 16000, _logmel, None,
             '16 kHz, 64-band log-mel, z-scored (AV-Digits)'),
)}


def get_front_end(name: str) -> FrontEnd:
    """The front-end called ``name`` (a key of :data:`FRONT_ENDS`)."""
    if name not in FRONT_ENDS:
        raise ValueError(f'unknown audio front-end {name!r}; choose one of '
                         f'{sorted(FRONT_ENDS)}')
    return FRONT_ENDS[name]


def compute_front_end(wav_path: str, name: str) -> np.ndarray:
    """Load ``wav_path`` as the front-end's reference does and return its
    float32 (F, T) spectrogram."""
    import librosa
    front_end = get_front_end(name)
    wave, rate = librosa.load(wav_path, sr=front_end.load_rate, mono=True)
    if wave.size == 0:
        raise ValueError(f'{wav_path} holds no audio samples')
    spec = front_end.transform(wave, int(rate))
    if front_end.shape is not None and spec.shape != front_end.shape:
        raise ValueError(f'{name} front-end gave shape {spec.shape} for '
                         f'{wav_path}, expected {front_end.shape}')
    return np.ascontiguousarray(spec, dtype=np.float32)


def warm_up_librosa() -> None:
    """Import librosa's lazily loaded audio and spectrum modules now.

    Why: librosa imports them (and numba) on first use, which takes seconds;
    done once in the parent, forked workers inherit them instead of each
    paying the cost.
    """
    import librosa
    librosa.load, librosa.stft, librosa.resample  # noqa: B018


def write_front_end(wav_path: str, npy_path: str, name: str) -> tuple:
    """Compute and cache a spectrogram (atomic write); return its shape."""
    from .media import write_npy
    spec = compute_front_end(wav_path, name)
    write_npy(spec, npy_path)
    return spec.shape

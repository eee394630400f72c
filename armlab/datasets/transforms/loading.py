"""Loading transforms: audio waveforms, spectrograms and video frames.

They read the absolute ``<key>_path`` entries that :class:`MultimodalDataset`
writes (from its shared file cache when it has one), and fail with a message
naming the file and the sample, because a corrupt file found in the middle of
an epoch is otherwise hard to trace.
"""
import os
import os.path as osp
import re
from typing import List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS
from ..file_cache import read_image_file
from .audio_features import compute_spectrogram, fit_length
from .deferred import defer

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def _sample(results: dict) -> str:
    """``sample 'id'`` for error messages."""
    return f"sample {results.get('sample_id', '<unknown>')!r}"


def _path(results: dict, key: str, transform: str) -> str:
    if key not in results:
        raise KeyError(f'{transform}: {_sample(results)} has no {key!r}; '
                       f'keys: {sorted(results)}')
    return results[key]


@TRANSFORMS.register_module()
class LoadAudio(BaseTransform):
    """Read a waveform as float32 in [-1, 1], resampled only when needed.

    Reads ``results['<key>_path']``; writes ``results[key]`` (1-D when mono,
    (channels, samples) otherwise) and ``results['<key>_sample_rate']``.

    Args:
        key: Modality key.
        sample_rate: Target rate; librosa resamples only when the file's rate
            differs, so files already at the rate are read bit-exactly.
            ``None`` keeps the file's rate.
        mono: Average the channels.
    """

    def __init__(self, key: str = 'audio', sample_rate: Optional[int] = 16000,
                 mono: bool = True) -> None:
        self.key = key
        self.sample_rate = sample_rate
        self.mono = mono

    def transform(self, results: dict) -> dict:
        import soundfile as sf
        path = _path(results, f'{self.key}_path', 'LoadAudio')
        cache = results.get('file_cache')
        if cache is not None and path in cache:
            wave, rate = cache.audio(path)
        else:
            try:
                wave, rate = sf.read(path, dtype='float32', always_2d=True)
            except Exception as err:  # libsndfile raises several types
                raise OSError(f'LoadAudio: cannot read audio file {path} '
                              f'({_sample(results)}): {err}') from err
        if wave.size == 0:
            raise ValueError(f'LoadAudio: empty audio file {path} '
                             f'({_sample(results)})')
        if self.mono:
            wave = wave[:, 0] if wave.shape[1] == 1 else wave.mean(axis=1)
        else:
            wave = wave.T
        if self.sample_rate is not None and rate != self.sample_rate:
            import librosa
            wave = librosa.resample(wave, orig_sr=rate,
                                    target_sr=self.sample_rate, axis=-1)
            rate = self.sample_rate
        results[self.key] = np.ascontiguousarray(wave, dtype=np.float32)
        results[f'{self.key}_sample_rate'] = int(rate)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'sample_rate={self.sample_rate}, mono={self.mono})')


@TRANSFORMS.register_module()
class AudioSpectrogram(BaseTransform):
    """Waveform -> float32 (F, T) spectrogram with a front-end of
    :mod:`armlab.datasets.transforms.audio_features`.

    OGM-GE's CREMA-D front-end is ``LoadAudio(sample_rate=22050)`` then
    ``AudioSpectrogram(kind='stft', num_samples=66150, tile=3, n_fft=512,
    hop_length=353)``: 257 x 188.

    Reads ``results[key]`` (1-D waveform) and, for ``logmel`` without an
    explicit ``sample_rate``, ``results['<key>_sample_rate']``; writes
    ``results[key]``.

    Args:
        key: Modality key.
        kind: ``'logmel'`` or ``'stft'``.
        num_samples: Tile ``tile`` times and cut/zero-pad to this length
            first (``fit_length``); ``None`` keeps the length.
        tile: Repetitions before cutting (used only with ``num_samples``).
        on_batch: Leave the waveform (cut to ``num_samples``) in
            ``results[key]`` and defer the spectrogram to the data
            preprocessor, which computes it for the whole batch on the
            model's device (``BatchSpectrogram``, same numbers to float32
            rounding). All waveforms of a batch must then have the same
            length.
        **front_end_kwargs: Passed to the front-end function.
    """

    def __init__(self, key: str = 'audio', kind: str = 'logmel',
                 num_samples: Optional[int] = None, tile: int = 1,
                 on_batch: bool = False, **front_end_kwargs) -> None:
        if kind not in ('logmel', 'stft'):
            raise ValueError(f"AudioSpectrogram: kind must be 'logmel' or "
                             f"'stft', got {kind!r}")
        self.key = key
        self.kind = kind
        self.num_samples = num_samples
        self.tile = tile
        self.on_batch = on_batch
        self.front_end_kwargs = front_end_kwargs

    def transform(self, results: dict) -> dict:
        wave = np.asarray(_path(results, self.key, 'AudioSpectrogram'))
        if wave.ndim != 1:
            raise ValueError(f'AudioSpectrogram: {_sample(results)} needs a '
                             f'1-D (mono) waveform in {self.key!r}, got shape '
                             f'{wave.shape}')
        if self.num_samples is not None:
            wave = fit_length(wave, self.num_samples, self.tile)
        kwargs = dict(self.front_end_kwargs)
        rate_key = f'{self.key}_sample_rate'
        if self.kind == 'logmel' and 'sample_rate' not in kwargs \
                and rate_key in results:
            kwargs['sample_rate'] = results[rate_key]
        if self.on_batch:
            results[self.key] = np.ascontiguousarray(wave, dtype=np.float32)
            defer(results, dict(type='BatchSpectrogram', key=self.key,
                                kind=self.kind, **kwargs), {})
            return results
        results[self.key] = compute_spectrogram(wave, self.kind, **kwargs)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, kind={self.kind!r}, '
                f'num_samples={self.num_samples}, tile={self.tile}, '
                f'on_batch={self.on_batch}, {self.front_end_kwargs})')


@TRANSFORMS.register_module()
class LoadSpectrogram(BaseTransform):
    """Load a cached float32 (F, T) spectrogram from ``.npy``.

    Reads ``results['<path_key>_path']``; writes ``results[key]``.

    Args:
        key: Modality key to write.
        path_key: Path key of the annotation (``audio_spec``).
        expected_shape: Optional (F, T); ``None`` entries match any size.
            Catches a cache built with another front-end. Without it, the
            sample's ``spec_shape`` (set by ``AVClipDataset``) is checked
            when there is one.
    """

    def __init__(self, key: str = 'audio', path_key: str = 'audio_spec',
                 expected_shape: Optional[Sequence[Optional[int]]] = None
                 ) -> None:
        self.key = key
        self.path_key = path_key
        self.expected_shape = (tuple(expected_shape)
                               if expected_shape is not None else None)

    def transform(self, results: dict) -> dict:
        path = _path(results, f'{self.path_key}_path', 'LoadSpectrogram')
        try:
            spec = np.load(path, allow_pickle=False)
        except Exception as err:
            raise OSError(f'LoadSpectrogram: cannot read {path} '
                          f'({_sample(results)}): {err}') from err
        if spec.ndim != 2:
            raise ValueError(f'LoadSpectrogram: {path} ({_sample(results)}) '
                             f'is not 2-D (F, T): shape {spec.shape}')
        expected = self.expected_shape
        if expected is None and results.get('spec_shape') is not None:
            expected = tuple(results['spec_shape'])
        if expected is not None and (
                len(expected) != 2 or any(
                    e is not None and e != s
                    for e, s in zip(expected, spec.shape))):
            raise ValueError(f'LoadSpectrogram: {path} ({_sample(results)}) '
                             f'has shape {spec.shape}, expected {expected}')
        results[self.key] = spec.astype(np.float32, copy=False)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'path_key={self.path_key!r}, '
                f'expected_shape={self.expected_shape})')


def _numeric_key(name: str):
    """Sort key: the integers in the name, then the name (frame_10 > 9)."""
    return tuple(int(d) for d in re.findall(r'\d+', name)), name


def list_frames(folder: str) -> List[str]:
    """Image files of a frame folder, sorted numerically by name."""
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(IMAGE_EXTENSIONS)]
    return [osp.join(folder, n) for n in sorted(names, key=_numeric_key)]


def tsn_indices(num_total: int, num_frames: int, test_mode: bool,
                rng=np.random) -> np.ndarray:
    """TSN segment sampling of ``num_frames`` out of ``num_total`` frames.

    Segment i is ``[i*n//T, (i+1)*n//T)``. Training draws one index uniformly
    inside each segment; test takes each segment's centre ``(start+end)//2``.
    With fewer frames than segments, index ``i*n//T`` is used (each frame
    repeated in order, deterministically, train and test alike).

    Returns:
        int64 array (num_frames,).
    """
    if num_total <= 0:
        raise ValueError('tsn_indices: no frames to sample from')
    seg = np.arange(num_frames + 1) * num_total // num_frames
    starts, ends = seg[:-1], seg[1:]
    if num_total < num_frames:
        return starts.astype(np.int64)
    if test_mode:
        return ((starts + ends) // 2).astype(np.int64)
    return np.array([rng.randint(s, e) for s, e in zip(starts, ends)],
                    dtype=np.int64)


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Choose T frames of a clip folder, TSN-style (docs/protocols.md).

    The frames are sorted numerically, never in ``os.listdir`` order, which
    is the OGM-GE bug that fed arbitrary frames to train and test alike.

    Reads ``results['<key>_path']`` (the frame folder); writes
    ``results['<key>_frame_paths']`` (the T chosen files),
    ``results['<key>_frame_inds']`` and ``results['<key>_total_frames']``.

    Args:
        key: Modality key.
        num_frames: T, the number of segments; ``None`` takes the sample's
            ``num_frames`` (set by ``AVClipDataset``), so the frame count is
            the dataset's.
        test_mode: Segment centres instead of random draws.
    """

    def __init__(self, key: str = 'visual', num_frames: Optional[int] = 3,
                 test_mode: bool = False) -> None:
        if num_frames is not None and num_frames < 1:
            raise ValueError(f'SampleFrames: num_frames must be >= 1, got '
                             f'{num_frames}')
        self.key = key
        self.num_frames = num_frames
        self.test_mode = test_mode

    def transform(self, results: dict) -> dict:
        folder = _path(results, f'{self.key}_path', 'SampleFrames')
        cache = results.get('file_cache')
        if cache is not None and folder in cache:
            frames = cache.frames(folder)
        elif not osp.isdir(folder):
            raise FileNotFoundError(f'SampleFrames: frame folder {folder} '
                                    f'not found ({_sample(results)})')
        else:
            frames = list_frames(folder)
        if not frames:
            raise ValueError(f'SampleFrames: no image files in frame folder '
                             f'{folder} ({_sample(results)})')
        num_frames = self.num_frames
        if num_frames is None:
            if results.get('num_frames') is None:
                raise KeyError(
                    f'SampleFrames: num_frames=None takes the frame count '
                    f'from the dataset, but {_sample(results)} has no '
                    f"'num_frames' (use AVClipDataset or set num_frames)")
            num_frames = int(results['num_frames'])
        inds = tsn_indices(len(frames), num_frames, self.test_mode)
        results[f'{self.key}_frame_paths'] = [frames[i] for i in inds]
        results[f'{self.key}_frame_inds'] = inds
        results[f'{self.key}_total_frames'] = len(frames)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'num_frames={self.num_frames}, test_mode={self.test_mode})')


@TRANSFORMS.register_module()
class LoadFrames(BaseTransform):
    """Read the chosen frames as RGB and stack them.

    Reads ``results['<key>_frame_paths']``; writes ``results[key]`` (uint8,
    or float32 with ``to_float32``, (T, H, W, 3)) and
    ``results['<key>_shape']`` ((H, W)).

    Args:
        key: Modality key.
        to_float32: Cast to float32 (0-255 scale).
    """

    def __init__(self, key: str = 'visual', to_float32: bool = False) -> None:
        self.key = key
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        paths = _path(results, f'{self.key}_frame_paths', 'LoadFrames')
        cache = results.get('file_cache')
        frames = []
        for path in paths:
            if cache is not None and path in cache:
                frames.append(cache.image(path))
                continue
            img = read_image_file(path)
            if img is None:
                raise OSError(f'LoadFrames: cannot read image {path} '
                              f'({_sample(results)})')
            frames.append(img)
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise ValueError(f'LoadFrames: frames of {_sample(results)} '
                             f'differ in size {sorted(shapes)}: {paths}')
        clip = np.stack(frames)
        if self.to_float32:
            clip = clip.astype(np.float32)
        results[self.key] = clip
        results[f'{self.key}_shape'] = clip.shape[1:3]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'to_float32={self.to_float32})')

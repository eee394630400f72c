"""Decoded media held in one shared-memory block, read by every worker.

Why: on a small benchmark (AV-Digits: 10,000 one-second clips and 30,000
32x32 frames) decoding WAV and JPEG files and listing frame folders costs more
than the model. :class:`SharedFileCache` decodes every file a dataset refers
to once, in the main process, into a single ``torch`` tensor placed in shared
memory. Workers, forked or spawned, map the same pages: pickling the cache
sends a handle to the shared block, not its bytes, and reading a clip is a
slice. The decoded values are those the loading transforms would read from
the files (PCM-16 audio is kept as int16 and scaled by 1/32768 on read,
exactly as libsndfile does), so a cached run and an uncached one see the same
numbers.

A cache is built by :class:`~armlab.datasets.MultimodalDataset` with
``cache=True`` and reused by every dataset of the process that reads the same
annotation file (the train loader and the training-set pass of ARM, PMR,
valuation and probes).
"""
import os
import os.path as osp
import threading
from typing import Dict, Iterable, List, Optional, Tuple

import cv2
import numpy as np
import torch

#: What a cached entry is: the offset and size in bytes, its shape, dtype and
#: (audio) sample rate.
Entry = Tuple[int, int, Tuple[int, ...], str, int]

_BUILT: Dict[tuple, 'SharedFileCache'] = {}
_LOCK = threading.Lock()


def read_audio_file(path: str) -> Tuple[np.ndarray, int]:
    """(frames, channels) samples in the file's exact values, and the rate.

    PCM-16 comes back as int16 (half the memory of float32, and
    ``as_float32`` gives the values ``soundfile.read(dtype='float32')``
    gives); any other subtype as float32.
    """
    import soundfile as sf
    info = sf.info(path)
    dtype = 'int16' if info.subtype == 'PCM_16' else 'float32'
    wave, rate = sf.read(path, dtype=dtype, always_2d=True)
    return wave, int(rate)


def as_float32(wave: np.ndarray) -> np.ndarray:
    """int16 samples scaled by 1/32768 (libsndfile's rule); float as is."""
    if wave.dtype == np.int16:
        return wave.astype(np.float32) * np.float32(1.0 / 32768.0)
    return wave.astype(np.float32, copy=False)


def read_image_file(path: str) -> Optional[np.ndarray]:
    """An RGB uint8 image, or None when OpenCV cannot decode the file."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class SharedFileCache:
    """Decoded audio files, images and frame-folder listings in shared memory.

    Args:
        audio_paths: WAV (or any libsndfile format) files to decode.
        frame_folders: Folders of frames; their listings and every image in
            them are cached.
        list_frames: The function that lists a frame folder (the loaders'
            own, so that the cached order is the order they would use).
        progress: Show a progress bar while decoding.
        skip_unreadable: Leave files that cannot be decoded out of the cache
            (listed in ``unreadable``) instead of raising: the loaders then
            read them from disk and fail there, where a dataset with
            ``skip_bad_samples`` handles the failure.
    """

    def __init__(self, audio_paths: Iterable[str] = (),
                 frame_folders: Iterable[str] = (),
                 list_frames=None, progress: bool = False,
                 skip_unreadable: bool = False) -> None:
        self.entries: Dict[str, Entry] = {}
        self.folders: Dict[str, List[str]] = {}
        #: Files left out because they could not be decoded.
        self.unreadable: List[str] = []
        chunks: List[np.ndarray] = []
        offset = 0

        def add(path: str, array: np.ndarray, rate: int = 0) -> None:
            nonlocal offset
            array = np.ascontiguousarray(array)
            raw = array.reshape(-1).view(np.uint8)
            self.entries[path] = (offset, raw.size, tuple(array.shape),
                                  array.dtype.str, rate)
            chunks.append(raw)
            offset += raw.size

        def unreadable(path: str, error: Exception) -> None:
            if not skip_unreadable:
                raise error
            self.unreadable.append(path)

        for path in _progress(sorted(set(audio_paths)), progress, 'audio'):
            try:
                wave, rate = read_audio_file(path)
            except Exception as err:  # libsndfile raises several types
                unreadable(path, OSError(f'SharedFileCache: cannot read '
                                         f'audio file {path}: {err}'))
                continue
            add(path, wave, rate)
        for folder in _progress(sorted(set(frame_folders)), progress,
                                'frames'):
            if not osp.isdir(folder):
                unreadable(folder, FileNotFoundError(
                    f'SharedFileCache: frame folder {folder} not found'))
                continue
            images = [(path, read_image_file(path))
                      for path in list_frames(folder)]
            bad = [path for path, img in images if img is None]
            if bad:  # the folder stays on disk, for the loaders to report
                unreadable(bad[0], OSError(f'SharedFileCache: cannot read '
                                           f'image {bad[0]}'))
                continue
            self.folders[folder] = [path for path, _ in images]
            for path, img in images:
                add(path, img)
        block = np.concatenate(chunks) if chunks else np.zeros(0, np.uint8)
        #: The shared block; a uint8 tensor so that torch's multiprocessing
        #: reductions pass it to spawned workers as a shared-memory handle.
        self.block = torch.from_numpy(block).share_memory_()
        self._view: Optional[np.ndarray] = None

    # ----------------------------------------------------------- building
    @classmethod
    def for_files(cls, key: tuple, **kwargs) -> 'SharedFileCache':
        """The cache built for ``key`` in this process, built on first use."""
        with _LOCK:
            if key not in _BUILT:
                _BUILT[key] = cls(**kwargs)
            return _BUILT[key]

    # ------------------------------------------------------------ reading
    @property
    def nbytes(self) -> int:
        """Size of the shared block."""
        return int(self.block.numel())

    def __contains__(self, path: str) -> bool:
        return path in self.entries or path in self.folders

    def __len__(self) -> int:
        return len(self.entries)

    def array(self, path: str) -> np.ndarray:
        """A read-only view of the decoded file (copy before writing)."""
        offset, size, shape, dtype, _ = self.entries[path]
        if self._view is None:
            self._view = self.block.numpy()
        view = self._view[offset:offset + size].view(np.dtype(dtype))
        view = view.reshape(shape)
        view.flags.writeable = False
        return view

    def audio(self, path: str) -> Tuple[np.ndarray, int]:
        """(frames, channels) float32 samples and the file's rate."""
        return as_float32(self.array(path)), self.entries[path][4]

    def image(self, path: str) -> np.ndarray:
        """An RGB uint8 image (a copy)."""
        return self.array(path).copy()

    def frames(self, folder: str) -> List[str]:
        """The sorted frame files of a folder."""
        return list(self.folders[folder])

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_view'] = None
        return state


def _progress(items: list, show: bool, what: str):
    if not show or len(items) < 200:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=f'caching {what}', unit='file',
                disable=not os.isatty(2))

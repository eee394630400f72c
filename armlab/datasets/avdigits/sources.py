"""Raw sources of AV-Digits: digit images and spoken digits.

Each loader returns plain arrays plus the audit identity of every item, so
that the builder can split them disjointly and record where each pair came
from. Paths always come from the caller (CLI or config): nothing here knows
where the project's shared data lives.
"""
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

DIGIT_WORDS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
               'eight', 'nine')
FSDD_SPEAKER_SPLIT = {
    'train': ('george', 'jackson', 'nicolas'),
    'val': ('yweweler',),
    'test': ('theo',),
}
_FSDD_NAME = re.compile(r'^(\d)_([A-Za-z]+)_(\d+)\.wav$')


def load_visual_source(source: str, mnist_path: Optional[str] = None
                       ) -> Dict[str, np.ndarray]:
    """Load the digit images: ``images`` uint8 (N, H, W), ``labels`` (N,).

    Args:
        source: ``'sklearn'`` (1,797 8x8 digits shipped with scikit-learn,
            upsampled x4 to 32x32 and scaled to 0-255) or ``'mnist'`` (an
            ``.npz`` with ``images`` and ``labels``, such as mnist10k.npz).
        mnist_path: The ``.npz`` file for ``'mnist'``.
    """
    if source == 'sklearn':
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = np.asarray(digits.images, np.float64) * (255.0 / 16.0)
        images = np.round(images).clip(0, 255).astype(np.uint8)
        images = images.repeat(4, axis=1).repeat(4, axis=2)
        return {'images': images, 'labels': digits.target.astype(np.int64)}
    if source == 'mnist':
        if not mnist_path:
            raise ValueError("visual_source='mnist' needs mnist_path (an .npz "
                             "with 'images' and 'labels')")
        if not os.path.isfile(mnist_path):
            raise FileNotFoundError(f'MNIST file not found: {mnist_path}')
        with np.load(mnist_path) as data:
            missing = {'images', 'labels'} - set(data.files)
            if missing:
                raise ValueError(f'{mnist_path} lacks arrays {sorted(missing)}')
            images = np.asarray(data['images'])
            labels = np.asarray(data['labels']).astype(np.int64)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f'{mnist_path}: images must be uint8 (N, H, W), '
                             f'got {images.dtype} {images.shape}')
        return {'images': images, 'labels': labels}
    raise ValueError(f"unknown visual_source {source!r}; use 'sklearn' or "
                     "'mnist'")


@dataclass(frozen=True)
class FsddRecording:
    """One FSDD file and its identity, parsed from ``digit_speaker_take``."""

    digit: int
    speaker: str
    take: int
    path: str


def list_fsdd(fsdd_path: str) -> List[FsddRecording]:
    """List FSDD recordings in a folder, sorted by (digit, speaker, take).

    Accepts either the ``recordings`` folder itself or its parent.
    """
    folder = fsdd_path
    if os.path.isdir(os.path.join(folder, 'recordings')):
        folder = os.path.join(folder, 'recordings')
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'FSDD folder not found: {fsdd_path}')
    recordings = []
    for name in os.listdir(folder):
        match = _FSDD_NAME.match(name)
        if match:
            recordings.append(FsddRecording(
                int(match.group(1)), match.group(2), int(match.group(3)),
                os.path.join(folder, name)))
    if not recordings:
        raise FileNotFoundError(
            f'no {{digit}}_{{speaker}}_{{take}}.wav files in {folder}')
    return sorted(recordings, key=lambda r: (r.digit, r.speaker, r.take))


def split_fsdd(recordings: List[FsddRecording], mode: str = 'speaker'
               ) -> Dict[str, List[FsddRecording]]:
    """Split FSDD recordings into train / val / test.

    ``'speaker'`` (default) is speaker-disjoint: train george, jackson,
    nicolas; val yweweler; test theo. ``'take'`` is the conventional split,
    *not* speaker-disjoint: takes 0-4 test, 5-9 val (carved from the
    conventional training takes), 10 and up train.
    """
    if mode == 'speaker':
        splits = {split: [r for r in recordings if r.speaker in speakers]
                  for split, speakers in FSDD_SPEAKER_SPLIT.items()}
    elif mode == 'take':
        splits = {'train': [r for r in recordings if r.take >= 10],
                  'val': [r for r in recordings if 5 <= r.take < 10],
                  'test': [r for r in recordings if r.take < 5]}
    else:
        raise ValueError(f"unknown fsdd_split {mode!r}; use 'speaker' or "
                         "'take'")
    for split, items in splits.items():
        missing = sorted(set(range(10)) - {r.digit for r in items})
        if missing:
            raise ValueError(f'FSDD {mode} split {split!r} has no recording '
                             f'of digits {missing}')
    return splits


def read_fsdd(recording: FsddRecording) -> Tuple[np.ndarray, int]:
    """Read one FSDD file as float32 mono in [-1, 1] and its sample rate."""
    import soundfile as sf
    wave, rate = sf.read(recording.path, dtype='float32', always_2d=True)
    return wave.mean(axis=1), int(rate)

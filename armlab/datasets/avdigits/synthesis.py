"""AV-Digits' media: each sample's speech window and drifting-digit frames.

Pure functions of one sample's plan and its raw utterance, so the files of a
sample do not depend on which process writes them or in what order.
"""
from math import gcd
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np

from .sources import DIGIT_WORDS, read_fsdd

TRIM_LEVEL = 0.01
PEAK_LEVEL = 0.9


def raw_audio(samples: List[Dict[str, Any]], audio_source: str,
               seed: int) -> Iterator[Tuple[np.ndarray, int]]:
    """Yield each sample's raw float32 utterance and its rate, in order."""
    if audio_source == 'espeak':
        from .espeak import synthesize_in_fresh_process
        jobs = [(DIGIT_WORDS[s['gt_label']], s['voice'], s['rate'],
                 s['pitch']) for s in samples]
        for rate, wave in synthesize_in_fresh_process(jobs, seed):
            yield wave.astype(np.float32) / 32768.0, rate
    else:
        cache: Dict[str, Tuple[np.ndarray, int]] = {}
        for sample in samples:
            rec = sample['recording']
            if rec.path not in cache:
                cache[rec.path] = read_fsdd(rec)
            yield cache[rec.path]


def _resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return wave
    from scipy.signal import resample_poly
    common = gcd(int(rate), int(target))
    return resample_poly(wave, target // common, rate // common)


def _trim(wave: np.ndarray, level: float = TRIM_LEVEL) -> np.ndarray:
    loud = np.flatnonzero(np.abs(wave) >= level)
    if len(loud) == 0:
        return wave[:0]
    return wave[loud[0]:loud[-1] + 1]


def prepare_audio(raw: np.ndarray, raw_rate: int, rate: int,
                   window_s: float, offset_u: float
                   ) -> Tuple[np.ndarray, bool]:
    """Resample, trim, place in the window, peak-normalise; int16 out.

    Returns:
        The int16 window and whether the clip had to be cropped.
    """
    clip = _trim(_resample(raw, raw_rate, rate).astype(np.float64))
    length = int(round(window_s * rate))
    window = np.zeros(length, np.float64)
    cropped = len(clip) > length
    if cropped:  # keep the loudest window-long stretch
        energy = np.concatenate([[0.0], np.cumsum(clip ** 2)])
        start = int(np.argmax(energy[length:] - energy[:-length]))
        window[:] = clip[start:start + length]
    else:
        offset = int(offset_u * (length - len(clip) + 1))
        window[offset:offset + len(clip)] = clip
    peak = np.abs(window).max()
    if peak > 0:
        window *= PEAK_LEVEL / peak
    return np.round(window * 32767).astype(np.int16), cropped


def fit_digit_size(shape: Sequence[int], canvas: int) -> Tuple[int, int]:
    """Digit size on the canvas: x2 when it leaves room to drift, shrunk
    when it does not fit."""
    height, width = int(shape[0]), int(shape[1])
    if 2 * max(height, width) * 2 <= canvas:
        return 2 * height, 2 * width
    if max(height, width) > canvas:
        scale = canvas / max(height, width)
        return int(height * scale), int(width * scale)
    return height, width


def render_frames(image: np.ndarray, digit: Tuple[int, int], canvas: int,
                  num_frames: int, path_u: np.ndarray) -> List[np.ndarray]:
    """Draw the digit drifting along a straight line over T frames.

    Args:
        image: uint8 (H, W) grey digit.
        digit: (height, width) of the digit on the canvas.
        canvas: Canvas side.
        num_frames: T.
        path_u: Four uniforms in [0, 1): start (y, x) and end (y, x).

    Returns:
        T uint8 (canvas, canvas, 3) frames, grey replicated to 3 channels.
    """
    import cv2
    if image.shape != digit:
        image = cv2.resize(image, (digit[1], digit[0]),
                           interpolation=cv2.INTER_AREA)
    room = np.array([canvas - digit[0], canvas - digit[1]] * 2, np.float64)
    start_end = np.floor(path_u * (room + 1))
    frames = []
    for t in range(num_frames):
        frac = t / (num_frames - 1) if num_frames > 1 else 0.0
        y, x = np.round(start_end[:2] + frac * (start_end[2:] -
                                                start_end[:2])).astype(int)
        frame = np.zeros((canvas, canvas), np.uint8)
        frame[y:y + digit[0], x:x + digit[1]] = image
        frames.append(np.repeat(frame[:, :, None], 3, axis=2))
    return frames

"""Clip-consistent frame augmentations.

Image transforms applied frame by frame would draw a new crop and flip for
each frame, so a clip would jitter in space; these draw the random parameters
once per clip and apply them to all T frames of ``results[key]`` (T, H, W, C).
Randomness comes from ``np.random``, so seeding numpy (as mmengine does per
worker) makes them deterministic, like mmcv's transforms.
"""
import math
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS


def _hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """An int is a square side; a pair is (height, width)."""
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'size must be an int or (height, width), got {size}')
    return int(size[0]), int(size[1])


def _clip(results: dict, key: str, transform: str) -> np.ndarray:
    if key not in results:
        raise KeyError(f"{transform}: sample "
                       f"{results.get('sample_id', '<unknown>')!r} has no "
                       f'{key!r}; run LoadFrames first')
    clip = results[key]
    if clip.ndim != 4:
        raise ValueError(f'{transform}: expected {key!r} of shape '
                         f'(T, H, W, C), got {clip.shape}')
    return clip


def _resize_clip(clip: np.ndarray, height: int, width: int,
                 interpolation: str) -> np.ndarray:
    return np.stack([
        mmcv.imresize(frame, (width, height), interpolation=interpolation)
        .reshape(height, width, -1) for frame in clip
    ])


@TRANSFORMS.register_module()
class FramesResize(BaseTransform):
    """Resize every frame to a fixed size (the test transform).

    Reads/writes ``results[key]``; writes ``results['<key>_shape']``.

    Args:
        size: Output side (square) or (height, width).
        key: Modality key.
        interpolation: mmcv interpolation name.
    """

    def __init__(self, size: Union[int, Sequence[int]], key: str = 'visual',
                 interpolation: str = 'bilinear') -> None:
        self.size = _hw(size)
        self.key = key
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        clip = _clip(results, self.key, 'FramesResize')
        results[self.key] = _resize_clip(clip, *self.size, self.interpolation)
        results[f'{self.key}_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, key={self.key!r}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class FramesRandomResizedCrop(BaseTransform):
    """One random area/aspect crop for the whole clip, resized to ``size``.

    The crop box is drawn like torchvision's RandomResizedCrop (10 tries,
    then a centre crop at the clamped aspect ratio).

    Reads/writes ``results[key]``; writes ``results['<key>_crop_bbox']``
    (x1, y1, x2, y2, exclusive) and ``results['<key>_shape']``.

    Args:
        size: Output side (square) or (height, width).
        scale: Range of the crop area as a fraction of the frame area.
        ratio: Range of the crop aspect ratio (width / height).
        key: Modality key.
        interpolation: mmcv interpolation name.
    """

    def __init__(self, size: Union[int, Sequence[int]],
                 scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (3. / 4., 4. / 3.),
                 key: str = 'visual', interpolation: str = 'bilinear') -> None:
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f'FramesRandomResizedCrop: scale {scale} and '
                             f'ratio {ratio} must be (min, max)')
        self.size = _hw(size)
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.key = key
        self.interpolation = interpolation

    def crop_box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """Draw (x1, y1, crop_w, crop_h) for a frame of the given size."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            aspect = math.exp(np.random.uniform(*log_ratio))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                y = np.random.randint(0, height - h + 1)
                x = np.random.randint(0, width - w + 1)
                return x, y, w, h
        aspect = width / height
        if aspect < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif aspect > self.ratio[1]:
            h, w = height, int(round(height * self.ratio[1]))
        else:
            w, h = width, height
        return (width - w) // 2, (height - h) // 2, w, h

    def transform(self, results: dict) -> dict:
        clip = _clip(results, self.key, 'FramesRandomResizedCrop')
        x, y, w, h = self.crop_box(*clip.shape[1:3])
        cropped = clip[:, y:y + h, x:x + w]
        results[self.key] = _resize_clip(cropped, *self.size,
                                         self.interpolation)
        results[f'{self.key}_crop_bbox'] = (x, y, x + w, y + h)
        results[f'{self.key}_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, key={self.key!r}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class FramesRandomFlip(BaseTransform):
    """Flip the whole clip horizontally with probability ``prob``.

    Reads/writes ``results[key]``; writes ``results['<key>_flip']``.

    Args:
        prob: Flip probability.
        key: Modality key.
    """

    def __init__(self, prob: float = 0.5, key: str = 'visual') -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'FramesRandomFlip: prob must be in [0, 1], got '
                             f'{prob}')
        self.prob = prob
        self.key = key

    def transform(self, results: dict) -> dict:
        clip = _clip(results, self.key, 'FramesRandomFlip')
        flip = bool(np.random.rand() < self.prob)
        if flip:
            results[self.key] = np.ascontiguousarray(clip[:, :, ::-1])
        results[f'{self.key}_flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, key={self.key!r})'

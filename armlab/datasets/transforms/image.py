"""Still images as the visual modality of image+text datasets.

A single image is loaded as a one-frame clip (1, H, W, C), so that the frame
transforms (``FramesResize``, ``FramesRandomResizedCrop``,
``FramesRandomFlip``), ``PackMultimodalInputs`` (-> (C, 1, H, W)) and
``FrameResNet`` serve images and videos with the same code.
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Read ``results['<key>_path']`` as an RGB one-frame clip.

    Writes ``results[key]`` (uint8, or float32 with ``to_float32``,
    (1, H, W, 3)) and ``results['<key>_shape']`` ((H, W)).

    Args:
        key: Modality key.
        to_float32: Cast to float32 (0-255 scale).
    """

    def __init__(self, key: str = 'visual', to_float32: bool = False) -> None:
        self.key = key
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        sample = f"sample {results.get('sample_id', '<unknown>')!r}"
        path = results.get(f'{self.key}_path')
        if path is None:
            raise KeyError(f'LoadImage: {sample} has no {self.key}_path; '
                           f'keys: {sorted(results)}')
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f'LoadImage: cannot read image {path} ({sample})')
        clip = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)[None]
        if self.to_float32:
            clip = clip.astype(np.float32)
        results[self.key] = np.ascontiguousarray(clip)
        results[f'{self.key}_shape'] = clip.shape[1:3]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'to_float32={self.to_float32})')

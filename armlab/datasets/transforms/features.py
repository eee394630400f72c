"""Precomputed feature sequences as a modality (IEMOCAP-style ``.npy``).

Feature files hold float arrays (T, D) (or (D,), one vector per sample);
``LoadFeatures`` makes every sample (max_length, D) so that batches stack,
padding with zero rows that ``SequenceEncoder`` leaves out of its mean.
``PackFeatureInputs`` packs such modalities unchanged, where
``PackMultimodalInputs`` would reshape ``audio``/``visual`` as a spectrogram
and frames.
"""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS
from .formatting import PackMultimodalInputs


@TRANSFORMS.register_module()
class LoadFeatures(BaseTransform):
    """Load ``results['<path_key>_path']`` (``.npy``) as float32 (T, D).

    Writes ``results[key]`` (max_length, D) — cut at the end or padded with
    zero rows — and ``results['<key>_length']`` (rows kept before padding).

    Args:
        key: Modality key to write.
        path_key: Path key of the annotation; ``key`` when None.
        max_length: T after padding/truncation; None keeps the file's T
            (then every file must have the same T for batching).
        expected_dim: D the files must have (catches features of another
            extractor); None accepts any.
    """

    def __init__(self, key: str, path_key: Optional[str] = None,
                 max_length: Optional[int] = 1,
                 expected_dim: Optional[int] = None) -> None:
        if max_length is not None and max_length < 1:
            raise ValueError(f'LoadFeatures: max_length must be >= 1, got '
                             f'{max_length}')
        self.key = key
        self.path_key = path_key or key
        self.max_length = max_length
        self.expected_dim = expected_dim

    def transform(self, results: dict) -> dict:
        sample = f"sample {results.get('sample_id', '<unknown>')!r}"
        name = f'{self.path_key}_path'
        if name not in results:
            raise KeyError(f'LoadFeatures: {sample} has no {name!r}; keys: '
                           f'{sorted(results)}')
        path = results[name]
        try:
            feats = np.load(path, allow_pickle=False)
        except Exception as err:
            raise OSError(f'LoadFeatures: cannot read {path} ({sample}): '
                          f'{err}') from err
        if feats.ndim == 1:
            feats = feats[None]
        if feats.ndim != 2 or feats.shape[0] == 0:
            raise ValueError(f'LoadFeatures: {path} ({sample}) must hold '
                             f'(T, D) or (D,) features, got shape '
                             f'{feats.shape}')
        if self.expected_dim is not None and \
                feats.shape[1] != self.expected_dim:
            raise ValueError(f'LoadFeatures: {path} ({sample}) has D='
                             f'{feats.shape[1]}, expected '
                             f'{self.expected_dim}')
        feats = feats.astype(np.float32, copy=False)
        length = min(len(feats), self.max_length or len(feats))
        if self.max_length is not None:
            out = np.zeros((self.max_length, feats.shape[1]), np.float32)
            out[:length] = feats[:length]
            feats = out
        results[self.key] = feats
        results[f'{self.key}_length'] = length
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'path_key={self.path_key!r}, max_length={self.max_length}, '
                f'expected_dim={self.expected_dim})')


@TRANSFORMS.register_module()
class PackFeatureInputs(PackMultimodalInputs):
    """``PackMultimodalInputs`` that packs ``feature_modalities`` unchanged
    (float32 (T, D)) instead of as a spectrogram or frames.

    Args:
        feature_modalities: Modalities given as feature sequences.
        **kwargs: ``PackMultimodalInputs`` arguments.
    """

    def __init__(self, feature_modalities: Sequence[str] = ('audio',
                                                             'visual'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(feature_modalities, str):
            feature_modalities = (feature_modalities, )
        self.feature_modalities = tuple(feature_modalities)

    def _pack(self, modality: str, value, sample: str,
              waveform: bool = False) -> torch.Tensor:
        if modality in self.feature_modalities:
            return torch.from_numpy(
                np.ascontiguousarray(value, dtype=np.float32))
        return super()._pack(modality, value, sample, waveform)

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] +
                f', feature_modalities={list(self.feature_modalities)})')

"""Packing a multimodal sample into model inputs and a ``DataSample``."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from armlab.registry import TRANSFORMS


def _to_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.from_numpy(np.ascontiguousarray(value))


@TRANSFORMS.register_module()
class PackMultimodalInputs(BaseTransform):
    """Make ``dict(inputs={modality: Tensor}, data_samples=DataSample)``.

    Layouts follow what the encoders expect: ``audio`` (F, T) -> float32
    (1, F, T), a spectrogram seen as a one-channel image; ``visual``
    (T, H, W, C) -> (C, T, H, W), uint8 kept so that the batch crosses to the
    GPU at a quarter of the size (the data preprocessor casts), float32
    otherwise. Any other modality is converted to a tensor unchanged.

    The data sample carries ``gt_label`` and metainfo ``sample_idx``,
    ``sample_id`` (or whatever ``meta_keys`` lists), ``modality_mask`` (bool
    (M,), present modalities, from ``results['modality_mask']`` or all True)
    and ``erased`` (bool (M,), from ``results['erased']`` or all False), both
    in the order of ``modalities``; flags of modalities not packed here are
    ignored, so a unimodal run can reuse a bimodal pipeline.

    Args:
        modalities: Modalities to pack, in the order masks use.
        meta_keys: Keys of ``results`` copied to the metainfo when present.
    """

    def __init__(self, modalities: Sequence[str] = ('audio', 'visual'),
                 meta_keys: Sequence[str] = ('sample_id', 'sample_idx',
                                             'skipped_samples')
                 ) -> None:
        if isinstance(modalities, str):
            modalities = (modalities, )
        self.modalities = tuple(modalities)
        self.meta_keys = tuple(meta_keys)

    def _pack(self, modality: str, value, sample: str) -> torch.Tensor:
        tensor = _to_tensor(value)
        if modality == 'audio':
            if tensor.ndim == 2:
                tensor = tensor[None]
            elif tensor.ndim != 3:
                raise ValueError(f'PackMultimodalInputs: {sample} audio must '
                                 f'be a (F, T) spectrogram, got shape '
                                 f'{tuple(tensor.shape)}')
            return tensor.float()
        if modality == 'visual':
            if tensor.ndim != 4:
                raise ValueError(f'PackMultimodalInputs: {sample} visual must '
                                 f'be (T, H, W, C), got shape '
                                 f'{tuple(tensor.shape)}')
            tensor = tensor.permute(3, 0, 1, 2).contiguous()
            return tensor if tensor.dtype == torch.uint8 else tensor.float()
        return tensor

    def _flags(self, results: dict, key: str, default: bool,
               sample: str) -> torch.Tensor:
        # Flags of modalities not packed here (a unimodal run on a bimodal
        # pipeline) are ignored.
        flags: Dict[str, bool] = results.get(key) or {}
        if not isinstance(flags, dict):
            raise TypeError(f'PackMultimodalInputs: {sample} {key!r} must be '
                            f'a dict modality -> bool, got {flags!r}')
        return torch.tensor([bool(flags.get(m, default))
                             for m in self.modalities], dtype=torch.bool)

    def transform(self, results: dict) -> dict:
        sample = f"sample {results.get('sample_id', '<unknown>')!r}"
        inputs = {}
        for modality in self.modalities:
            if modality not in results:
                raise KeyError(f'PackMultimodalInputs: {sample} has no '
                               f'{modality!r} in results; did the pipeline '
                               f'load it? keys: {sorted(results)}')
            inputs[modality] = self._pack(modality, results[modality], sample)

        data_sample = DataSample()
        if 'gt_label' in results:
            data_sample.set_gt_label(int(results['gt_label']))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['modality_mask'] = self._flags(results, 'modality_mask', True,
                                            sample)
        meta['erased'] = self._flags(results, 'erased', False, sample)
        data_sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(modalities={list(self.modalities)}, '
                f'meta_keys={list(self.meta_keys)})')

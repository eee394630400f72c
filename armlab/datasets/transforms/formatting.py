"""Packing a multimodal sample into model inputs and a ``DataSample``."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from armlab.registry import TRANSFORMS
from .deferred import DEFERRED_KEY


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

    Steps deferred to the batch (``results['deferred']``, see
    :mod:`~armlab.datasets.transforms.deferred`) go to the metainfo
    ``deferred``; an audio modality whose spectrogram is deferred is packed
    as its float32 (N,) waveform.

    Args:
        modalities: Modalities to pack, in the order masks use.
        meta_keys: Keys of ``results`` copied to the metainfo when present.
    """

    #: Only moves data: may follow a transform deferred to the batch.
    after_deferred = True

    def __init__(self, modalities: Sequence[str] = ('audio', 'visual'),
                 meta_keys: Sequence[str] = ('sample_id', 'sample_idx',
                                             'skipped_samples')
                 ) -> None:
        if isinstance(modalities, str):
            modalities = (modalities, )
        self.modalities = tuple(modalities)
        self.meta_keys = tuple(meta_keys)

    def _pack(self, modality: str, value, sample: str,
              waveform: bool = False) -> torch.Tensor:
        tensor = _to_tensor(value)
        if modality == 'audio' and waveform:
            if tensor.ndim != 1:
                raise ValueError(f'PackMultimodalInputs: {sample} audio '
                                 f'waits for a batch front-end and must be '
                                 f'a 1-D waveform, got shape '
                                 f'{tuple(tensor.shape)}')
            return tensor.float()
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
        waveforms = {spec['key'] for spec, _ in results.get(DEFERRED_KEY, ())
                     if spec.get('type') == 'BatchSpectrogram'}
        for modality in self.modalities:
            if modality not in results:
                raise KeyError(f'PackMultimodalInputs: {sample} has no '
                               f'{modality!r} in results; did the pipeline '
                               f'load it? keys: {sorted(results)}')
            inputs[modality] = self._pack(modality, results[modality], sample,
                                          waveform=modality in waveforms)

        data_sample = DataSample()
        if 'gt_label' in results:
            data_sample.set_gt_label(int(results['gt_label']))
        if results.get('regression_label') is not None:
            # The target of MultimodalRegressor (sentiment scores).
            data_sample.set_field(
                torch.tensor([float(results['regression_label'])]),
                'gt_value', field_type='data')
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['modality_mask'] = self._flags(results, 'modality_mask', True,
                                            sample)
        meta['erased'] = self._flags(results, 'erased', False, sample)
        if results.get(DEFERRED_KEY):
            meta[DEFERRED_KEY] = self._deferred(results[DEFERRED_KEY])
        # set_field, not set_metainfo, which deep-copies every value (most
        # of a cached sample's packing cost); the values are fresh here.
        for key, value in meta.items():
            data_sample.set_field(value, key, field_type='metainfo')
        return dict(inputs=inputs, data_samples=data_sample)

    def _deferred(self, steps: list) -> list:
        """The deferred steps that act on packed modalities only."""
        packed = set(self.modalities)
        kept = []
        for spec, args in steps:
            keys = [k for k in spec.get('keys', [spec.get('key')]) if k]
            keys = [k for k in keys if k in packed]
            if not keys:
                continue
            spec = dict(spec)
            if 'keys' in spec:
                spec['keys'] = keys
            kept.append((spec, args))
        return kept

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(modalities={list(self.modalities)}, '
                f'meta_keys={list(self.meta_keys)})')

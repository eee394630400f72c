"""Batching, normalisation and device transfer for multimodal inputs."""
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from armlab.datasets.transforms.deferred import DEFERRED_KEY, same_steps
from armlab.registry import MODELS, TRANSFORMS

Stat = Optional[Union[float, Sequence[float]]]

_DEFAULT_MODALITIES = dict(
    audio=dict(mean=None, std=None),
    visual=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))


@MODELS.register_module()
class MultimodalDataPreprocessor(BaseDataPreprocessor):
    """Stack each modality into a batch, cast to float, normalise, move.

    Normalisation runs here rather than in the pipeline so that frames travel
    as uint8 and are normalised on the device. So do the pipeline steps
    deferred to the batch (``on_batch=True`` transforms: the batched audio
    front-end, AV-Digits' noise): each sample's data sample lists them in
    ``metainfo['deferred']``, and they run in order on the stacked batch, on
    the device, before normalisation. Statistics apply per channel:
    channel is dim 0 of each sample (dim 1 of the batch) and the statistics
    broadcast over the remaining dims, so (C, T, H, W) frames and (1, F, T)
    spectrograms use the same code.

    Args:
        modalities: Modality -> ``dict(mean=..., std=...)``; ``None`` skips
            that statistic. A scalar applies to every channel. Every listed
            modality must be in the inputs; others pass through stacked and
            cast to float.
        index_modalities: Modalities that hold integer indices (token ids
            of text): stacked and moved but kept int64 and never normalised,
            since embeddings look them up by index.
        non_blocking: Asynchronous host-to-device copies.
    """

    def __init__(self,
                 modalities: Optional[Dict[str, dict]] = None,
                 index_modalities: Sequence[str] = (),
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if modalities is None:
            modalities = _DEFAULT_MODALITIES
        if isinstance(index_modalities, str):
            index_modalities = (index_modalities, )
        self.index_modalities = tuple(index_modalities)
        both = [m for m in self.index_modalities
                if any(v is not None
                       for v in (modalities.get(m) or {}).values())]
        if both:
            raise ValueError(f'MultimodalDataPreprocessor: index modalities '
                             f'{both} cannot have mean/std statistics')
        self.modalities = tuple(modalities)
        #: Batch transforms of the deferred steps, built once per spec.
        self._batch_ops: Dict[str, object] = {}
        for modality, stats in modalities.items():
            unknown = set(stats or {}) - {'mean', 'std'}
            if unknown:
                raise ValueError(f'MultimodalDataPreprocessor: modality '
                                 f'{modality!r} has unknown keys '
                                 f'{sorted(unknown)}; use mean and std')
            for name in ('mean', 'std'):
                value = (stats or {}).get(name)
                if value is not None:
                    value = torch.as_tensor(value, dtype=torch.float32)
                    value = value.reshape(-1)
                    if name == 'std' and bool((value == 0).any()):
                        raise ValueError(f'MultimodalDataPreprocessor: '
                                         f'{modality!r} std has a zero')
                self.register_buffer(f'{modality}_{name}', value, False)

    @staticmethod
    def stack(modality: str, values) -> torch.Tensor:
        """Stack a list of per-sample tensors; a tensor passes through."""
        if isinstance(values, torch.Tensor):
            return values
        shapes = [tuple(v.shape) for v in values]
        if len(set(shapes)) > 1:
            raise ValueError(f'MultimodalDataPreprocessor: cannot stack '
                             f'{modality!r}: samples differ in shape '
                             f'{sorted(set(shapes))}')
        return torch.stack(list(values))

    def normalize(self, modality: str, batch: torch.Tensor) -> torch.Tensor:
        """(x - mean) / std per channel (dim 1 of the batch)."""
        for name in ('mean', 'std'):
            stat = getattr(self, f'{modality}_{name}', None)
            if stat is None:
                continue
            if stat.numel() != 1 and (batch.ndim < 2
                                      or batch.shape[1] != stat.numel()):
                raise ValueError(
                    f'MultimodalDataPreprocessor: {modality!r} {name} has '
                    f'{stat.numel()} channels but the batch has shape '
                    f'{tuple(batch.shape)} (channels = dim 1)')
            stat = stat.view(1, -1, *([1] * (batch.ndim - 2))) \
                if stat.numel() != 1 else stat
            batch = batch - stat if name == 'mean' else batch / stat
        return batch

    def run_deferred(self, batch: Dict[str, torch.Tensor],
                     data_samples) -> Dict[str, torch.Tensor]:
        """Run the batch steps the samples' pipelines deferred, in order."""
        if not data_samples or DEFERRED_KEY not in data_samples[0]:
            return batch
        steps = [ds.get(DEFERRED_KEY, []) for ds in data_samples]
        specs = same_steps(steps, type(self).__name__)
        for i, spec in enumerate(specs):
            batch = self._batch_op(spec)(batch, [s[i][1] for s in steps])
        return batch

    def _batch_op(self, spec: dict):
        """The batch transform of a spec, built once."""
        key = repr(sorted(spec.items()))
        if key not in self._batch_ops:
            self._batch_ops[key] = TRANSFORMS.build(dict(spec))
        return self._batch_ops[key]

    def forward(self, data: dict, training: bool = False) -> dict:
        """Collated ``dict(inputs, data_samples)`` -> model inputs.

        Returns:
            ``dict(inputs={modality: float Tensor (B, ...)},
            data_samples=list)`` on the model's device (int64 tensors for
            ``index_modalities``).
        """
        inputs = data['inputs']
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'MultimodalDataPreprocessor: inputs lack '
                           f'modalities {missing}; got {sorted(inputs)}')
        # Stack on the host, copy (still uint8 where it was), then cast.
        batch = {m: self.stack(m, v) for m, v in inputs.items()}
        batch = self.cast_data(batch)
        data_samples = data.get('data_samples', None)
        batch = self.run_deferred(batch, data_samples)
        batch = {m: v.long() if m in self.index_modalities
                 else self.normalize(m, v.float()) for m, v in batch.items()}

        if data_samples is not None:
            data_samples = [self.move_sample(s) for s in data_samples]
        return dict(inputs=batch, data_samples=data_samples)

    def move_sample(self, sample):
        """A data sample's tensors (data and metainfo) on the device, set in
        place.

        Why not ``cast_data``: ``BaseDataElement.to`` builds a new element
        whose metainfo is deep-copied, a quarter of a CPU training iteration
        on AV-Digits. The samples are the batch's own (fresh from the
        pipeline), so moving their fields in place is safe.
        """
        if not hasattr(sample, 'metainfo_keys'):
            return self.cast_data(sample)
        for field_type, keys in (('data', sample.keys()),
                                 ('metainfo', sample.metainfo_keys())):
            for key in list(keys):
                value = sample.get(key)
                if isinstance(value, torch.Tensor) and \
                        value.device != self.device:
                    sample.set_field(
                        value.to(self.device,
                                 non_blocking=self._non_blocking),
                        key, field_type=field_type)
        return sample

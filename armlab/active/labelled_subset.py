"""A training dataset restricted to the labelled samples.

Why not mmengine's ``BaseDataset(indices=...)``: it renumbers the samples, so
``sample_idx`` becomes the position in the subset. AV-Digits draws its
per-sample noise and erasures from ``sample_idx`` (``AVDigitsImbalance``) and
``DrawSeeds`` seeds augmentations from it, so a renumbered sample would be a
*different* sample in training than in the pool pass. This wrapper keeps the
original indices: item i is ``dataset[indices[i]]``, untouched.
"""
import json
from typing import Optional, Sequence, Union

import numpy as np

from armlab.registry import DATASETS
from .pool import check_ids


@DATASETS.register_module()
class LabelledSubset:
    """The samples ``indices`` of ``dataset``, with their own indices.

    Args:
        dataset: The wrapped dataset or its config.
        indices: Positions in ``dataset`` to keep.
        indices_file: Or a labelled-set JSON written by the active-learning
            loop (``{"labelled": {"indices": [...], "ids": [...]}}``); the
            ids are checked against the dataset.
    """

    def __init__(self,
                 dataset: Union[dict, object],
                 indices: Optional[Sequence[int]] = None,
                 indices_file: Optional[str] = None):
        if (indices is None) == (indices_file is None):
            raise ValueError('LabelledSubset needs exactly one of `indices` '
                             'and `indices_file`')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) \
            else dataset
        ids = None
        if indices_file is not None:
            with open(indices_file, encoding='utf-8') as f:
                record = json.load(f)
            indices, ids = record['labelled']['indices'], \
                record['labelled'].get('ids')
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(self.indices) == 0:
            raise ValueError(f'LabelledSubset: no labelled samples '
                             f'({indices_file or "indices=[]"})')
        num = len(self.dataset)
        bad = self.indices[(self.indices < 0) | (self.indices >= num)]
        if len(bad):
            raise IndexError(f'LabelledSubset: indices {bad[:5].tolist()} '
                             f'outside the dataset of {num} samples')
        if ids is not None:
            sample_ids = [self.dataset.get_data_info(int(i))['sample_id']
                          for i in self.indices]
            lookup = dict(zip(self.indices.tolist(), sample_ids))
            check_ids(indices_file, self.indices, ids,
                      _IdView(lookup, num))

    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.indices)

    def _index(self, i: int) -> int:
        return int(self.indices[i])

    def __getitem__(self, idx):
        """Item i, or a masked copy for ``(i, present)`` (samplers)."""
        if isinstance(idx, tuple):
            return self.dataset[(self._index(idx[0]), idx[1])]
        return self.dataset[self._index(idx)]

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self._index(idx))

    def get_cat_ids(self, idx: int):
        return self.dataset.get_cat_ids(self._index(idx))

    def get_gt_labels(self) -> np.ndarray:
        return np.asarray(self.dataset.get_gt_labels())[self.indices]

    def __repr__(self) -> str:
        return (f'LabelledSubset({len(self)} of {len(self.dataset)} samples '
                f'of {type(self.dataset).__name__})')


class _IdView:
    """``sample_ids[i]`` for the few indices looked up (no full id list)."""

    def __init__(self, lookup: dict, num: int):
        self.lookup, self.num = lookup, num

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, i: int) -> str:
        return self.lookup[int(i)]

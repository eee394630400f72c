"""The labelled / unlabelled split of the training set, saved per round.

Indices are positions in the training split (``sample_idx``); ids are the
annotation's ``sample_id``. Both are saved, so that a round's sets can be
read without the dataset and checked against it.
"""
import json
from typing import Dict, Sequence

import numpy as np

from armlab.fileio.atomic_local import write_atomic


class LabelPool:
    """Which training samples are labelled.

    Args:
        sample_ids: Id of every training sample, in dataset order.
        labelled: Indices labelled so far.
    """

    def __init__(self, sample_ids: Sequence[str], labelled=()):
        self.sample_ids = [str(s) for s in sample_ids]
        self._mask = np.zeros(len(self.sample_ids), dtype=bool)
        self.add(labelled)

    def __len__(self) -> int:
        return len(self.sample_ids)

    @property
    def labelled(self) -> np.ndarray:
        """Sorted labelled indices (int64)."""
        return np.flatnonzero(self._mask).astype(np.int64)

    @property
    def unlabelled(self) -> np.ndarray:
        """Sorted unlabelled indices: the pool strategies select from."""
        return np.flatnonzero(~self._mask).astype(np.int64)

    def add(self, indices) -> None:
        """Label ``indices``; refuse repeats, strangers and labelled ones."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(indices) == 0:
            return
        bad = indices[(indices < 0) | (indices >= len(self))]
        if len(bad):
            raise IndexError(f'indices {bad[:5].tolist()} are outside the '
                             f'training split of {len(self)} samples')
        if len(np.unique(indices)) != len(indices):
            raise ValueError('repeated indices in a batch to label')
        already = indices[self._mask[indices]]
        if len(already):
            raise ValueError(f'samples {already[:5].tolist()} are already '
                             'labelled')
        self._mask[indices] = True

    def ids(self, indices) -> list:
        return [self.sample_ids[int(i)] for i in indices]

    # -- persistence ----------------------------------------------------------
    def to_dict(self, round_idx: int) -> Dict:
        labelled, unlabelled = self.labelled, self.unlabelled
        return dict(
            round=round_idx, num_labelled=len(labelled),
            num_unlabelled=len(unlabelled),
            labelled=dict(indices=labelled.tolist(), ids=self.ids(labelled)),
            unlabelled=dict(indices=unlabelled.tolist(),
                            ids=self.ids(unlabelled)))

    def save(self, path: str, round_idx: int) -> None:
        """Write the round's id sets and indices (atomically)."""
        write_atomic(json.dumps(self.to_dict(round_idx)).encode(), path)

    @staticmethod
    def read_labelled(path: str, sample_ids: Sequence[str] = None
                      ) -> np.ndarray:
        """Labelled indices of a saved round; with ``sample_ids``, check
        that the file's ids are those samples (same dataset build)."""
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
        try:
            indices = np.asarray(record['labelled']['indices'], np.int64)
            ids = record['labelled']['ids']
        except (KeyError, TypeError):
            raise ValueError(f'{path}: not a labelled-set file (expected '
                             '{"labelled": {"indices": [...], "ids": '
                             '[...]}})') from None
        if sample_ids is not None:
            check_ids(path, indices, ids, sample_ids)
        return indices


def check_ids(where: str, indices, ids, sample_ids: Sequence[str]) -> None:
    """Refuse indices whose saved ids are not those of the dataset."""
    if len(indices) != len(ids):
        raise ValueError(f'{where}: {len(indices)} indices but {len(ids)} '
                         'ids')
    num = len(sample_ids)
    for i, sid in zip(indices, ids):
        if not 0 <= int(i) < num or str(sample_ids[int(i)]) != str(sid):
            found = sample_ids[int(i)] if 0 <= int(i) < num else 'nothing'
            raise ValueError(
                f'{where}: index {int(i)} was saved as sample {sid!r} but '
                f'the dataset has {found!r} there: the labelled set belongs '
                'to another build or split of the data')

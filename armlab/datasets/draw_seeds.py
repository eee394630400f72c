"""Per-sample random draws that depend only on (seed, epoch, sample).

Why: training augmentations (TSN frame draws, crops, flips) read numpy's
global generator. mmengine seeds each worker once with the same seed every
epoch, and persistent workers carry their generator across epochs, so the
draws depend on the number of workers, on which worker loads which sample,
and on whether the run was resumed (a resumed run restarts the generators).
Seeding the global generators from (seed, epoch, index, mask) around each
sample's pipeline makes every draw a function of the sample alone: the same
seed gives the same data twice, and a run killed mid-epoch and resumed sees
exactly the data of an uninterrupted one.

The epoch lives in shared memory created before the workers start, so
persistent workers see each new epoch; ``DrawSeedHook`` sets it.
"""
import multiprocessing
import random
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import get_worker_info

from armlab.utils.seeding import draw_seed


class DrawSeeds:
    """The (seed, epoch) of a dataset's draws, shared with its workers."""

    def __init__(self) -> None:
        # [enabled, seed, epoch]; a lock-free shared array (one writer).
        self._state = multiprocessing.Array('q', [0, 0, 0], lock=False)

    def set(self, seed: int, epoch: int) -> None:
        self._state[0], self._state[1], self._state[2] = 1, int(seed), \
            int(epoch)

    @property
    def enabled(self) -> bool:
        return bool(self._state[0])

    @property
    def epoch(self) -> int:
        return int(self._state[2])

    @contextmanager
    def seeded(self, index: int,
               present: Optional[Sequence[bool]] = None) -> Iterator[None]:
        """Seed numpy, ``random`` and torch for one sample, then restore
        them, so the caller's own random stream is left untouched."""
        if not self.enabled:
            yield
            return
        mask = 0 if present is None else 1 + sum(
            1 << i for i, p in enumerate(present) if p)
        seed = draw_seed(self._state[1], self._state[2], index, mask)
        # The CPU generator only: pipelines run on the host, and
        # ``torch.manual_seed`` would also queue a lazy CUDA seeding (with a
        # stack trace) per sample, most of a cached sample's cost.
        cpu = torch.default_generator
        # A worker's generators serve only the pipeline and every sample
        # re-seeds them: nothing to give back there (saving numpy's state
        # costs more than the rest of a cached sample's pipeline).
        saved = None if get_worker_info() is not None else (
            np.random.get_state(), random.getstate(), cpu.get_state())
        np.random.seed(seed)
        random.seed(seed)
        cpu.manual_seed(seed)
        try:
            yield
        finally:
            if saved is not None:
                np.random.set_state(saved[0])
                random.setstate(saved[1])
                cpu.set_state(saved[2])

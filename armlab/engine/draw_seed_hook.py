"""Make every epoch's randomness a function of (seed, epoch).

Before each training epoch this hook hands (seed, epoch) to the training
dataset (its per-sample draws, see ``armlab.datasets.draw_seeds``) and
re-seeds the main process's generators (balancers that draw noise, e.g.
OGM-GE). A resumed run, which starts at epoch e with freshly seeded
generators, then draws exactly what an uninterrupted run draws in epoch e.
"""
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from armlab.utils.seeding import draw_seed
from armlab.registry import HOOKS


def _datasets(dataset):
    """The dataset and those it wraps (ConcatDataset, RepeatDataset...)."""
    yield dataset
    for attr in ('dataset', 'datasets'):
        inner = getattr(dataset, attr, None)
        if inner is None:
            continue
        for d in (inner if isinstance(inner, (list, tuple)) else [inner]):
            yield from _datasets(d)


@HOOKS.register_module()
class DrawSeedHook(Hook):
    """Seed the data draws and the main process per epoch."""

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        seed = runner.seed if runner.seed is not None else 0
        for dataset in _datasets(runner.train_dataloader.dataset):
            if hasattr(dataset, 'draw_seeds'):
                dataset.draw_seeds.set(seed, runner.epoch)
        main = draw_seed(seed, runner.epoch, -1)
        np.random.seed(main)
        random.seed(main)
        torch.manual_seed(main)

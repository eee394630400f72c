"""One eval-mode pass over (part of) the training split, gathered over ranks.

Epoch-level hooks that value training samples (ARM, sample-level modality
valuation) all need the same loop: build the train split read with the test
pipeline (``train_eval_dataloader``) once, load only the samples to value,
run the encoders without gradient in eval mode, turn each batch into one row
per sample, and collect the rows of every rank. :class:`TrainingSetValuation`
is that loop, written once; each method only says what a row is.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, \
    Union

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from torch.utils.data import DataLoader, Sampler

from armlab.datasets.train_eval import train_eval_loader_cfg

#: Maps one batch ``(feats, labels, data_samples)`` to one row per sample.
RowFn = Callable[[Dict[str, torch.Tensor], torch.Tensor, list], Sequence[Any]]


class IndexSampler(Sampler):
    """Yields ``indices``, which the owner may replace between passes (the
    sampler runs in the main process, so persistent workers follow)."""

    def __init__(self) -> None:
        self.indices: List[int] = []

    def __iter__(self):
        return iter(list(self.indices))

    def __len__(self) -> int:
        return len(self.indices)


class TrainingSetValuation:
    """The valuation pass of epoch-level hooks.

    Args:
        dataloader: The valuation dataloader (the train split with the test
            pipeline, no shuffling): its config, or the name of a top-level
            config key that may hold it (``'train_eval_dataloader'``); when
            the config has no such key, the loader is derived from the train
            and validation loaders (:func:`train_eval_loader_cfg`).
        owner: Who uses it, for error messages (e.g. ``'ARMHook'``).
    """

    def __init__(self,
                 dataloader: Union[str, dict] = 'train_eval_dataloader',
                 owner: str = 'valuation'):
        self.dataloader_cfg = dataloader
        self.owner = owner
        self.loader: Optional[DataLoader] = None
        self._subset: Optional[DataLoader] = None
        self._subset_sampler: Optional['IndexSampler'] = None

    # -- building -----------------------------------------------------------
    def build(self, runner) -> DataLoader:
        """Build the valuation dataloader on first use (then reuse it)."""
        if self.loader is None:
            cfg = self.dataloader_cfg
            if isinstance(cfg, str):
                try:
                    cfg = train_eval_loader_cfg(runner.cfg, key=cfg)
                except (KeyError, ValueError) as err:
                    raise type(err)(f'{self.owner}: {err}') from err
            self.loader = runner.build_dataloader(cfg, seed=runner.seed)
        return self.loader

    @property
    def num_samples(self) -> int:
        """N, the length of the training split being valued."""
        return len(self._built().dataset)

    def _built(self) -> DataLoader:
        if self.loader is None:
            raise RuntimeError(f'{self.owner}: call build(runner) before '
                               'using the valuation pass')
        return self.loader

    # -- which samples --------------------------------------------------------
    @staticmethod
    def subset_indices(num_samples: int, fraction: float,
                       seed: int) -> np.ndarray:
        """Sorted indices of ``ceil(fraction * N)`` samples drawn without
        replacement (all N when ``fraction >= 1``), seeded by ``seed``."""
        if fraction >= 1:
            return np.arange(num_samples)
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(num_samples,
                                  int(np.ceil(fraction * num_samples)),
                                  replace=False))

    def subset_loader(self, indices: Optional[Sequence[int]] = None
                      ) -> DataLoader:
        """This rank's share of ``indices`` (default: all samples).

        Only the chosen samples are loaded. One loader serves every pass:
        its sampler is re-pointed at the new indices, so that its workers
        (persistent) start once per run, not once per epoch, and read the
        dataset's shared file cache.
        """
        loader = self._built()
        chosen = np.arange(len(loader.dataset)) if indices is None \
            else np.asarray(indices, dtype=np.int64)
        rank, world_size = get_dist_info()
        if self._subset is None:
            self._subset_sampler = IndexSampler()
            self._subset = DataLoader(
                loader.dataset, batch_size=loader.batch_size,
                sampler=self._subset_sampler,
                num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                worker_init_fn=loader.worker_init_fn,
                persistent_workers=loader.num_workers > 0)
        self._subset_sampler.indices = chosen[rank::world_size].tolist()
        return self._subset

    # -- the pass -------------------------------------------------------------
    @torch.no_grad()
    def run(self, model, fn: RowFn,
            indices: Optional[Sequence[int]] = None) -> List[Tuple[int, Any]]:
        """Rows ``(sample_idx, fn's row)`` of the chosen samples, all ranks.

        Args:
            model: The classifier (not a wrapper); put in eval mode for the
                pass and restored afterwards.
            fn: ``fn(feats, labels, data_samples)`` -> one row per sample
                (any picklable value), called without gradient.
            indices: Samples to value (default: all); duplicates are valued
                once.
        """
        if indices is not None:
            indices = np.unique(np.asarray(indices, dtype=np.int64))
        loader = self.subset_loader(indices)
        was_training = model.training
        model.eval()
        rows: List[Tuple[int, Any]] = []
        try:
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                samples = data['data_samples']
                feats = model.extract_feat(data['inputs'])
                labels = torch.cat([ds.gt_label for ds in samples])
                values = fn(feats, labels, samples)
                if len(values) != len(samples):
                    raise ValueError(f'{self.owner}: the row function gave '
                                     f'{len(values)} rows for a batch of '
                                     f'{len(samples)} samples')
                rows += [(int(ds.sample_idx), row)
                         for ds, row in zip(samples, values)]
        finally:
            model.train(was_training)
        return [r for part in all_gather_object(rows) for r in part]

    def features(self, model, indices: Optional[Sequence[int]] = None
                 ) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
        """Every chosen sample's features and label, gathered from all ranks.

        Returns:
            tuple: modality -> (N, D) float array in sample order, labels
            (N,).
        """
        rows = self.run(model, lambda feats, labels, samples: [
            ({m: h[i].float().cpu().numpy() for m, h in feats.items()},
             int(labels[i])) for i in range(len(samples))], indices)
        rows.sort(key=lambda r: r[0])
        feats = {m: np.stack([r[1][0][m] for r in rows])
                 for m in model.modalities}
        return feats, np.array([r[1][1] for r in rows])

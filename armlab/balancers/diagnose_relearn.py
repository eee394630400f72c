"""Diagnosing and Re-learning: soft re-initialisation of over-fitted encoders.

Wei, Li, Feng, Hu, "Diagnosing and Re-learning for Balanced Multimodal
Learning", ECCV 2024 (configs/diagnose_relearn/README.md). A modality that
has learned too fast memorises its training samples: its features separate
the training split far better than unseen data. Every few epochs the method
diagnoses each encoder by how much better its features cluster by class on
training data than on held-out data, and pulls the encoder back towards its
initial parameters in proportion:

* P_split^m: purity of k-means (K = classes) on m's features, min-max scaled
  to [-1, 1], of the training split (test pipeline) and of the validation
  split, both in eval mode;
* gap g_m = |P_train^m - P_val^m|, strength w_m = tanh(lambda g_m);
* theta_m <- w_m theta_m^init + (1 - w_m) theta_m for every parameter of m's
  encoder (buffers, and the optimiser's momentum, untouched, as the code).

Training between diagnoses is plain joint training; the method is this hook.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.registry import HOOKS
from .base import unwrap_model


def minmax_scale(feats: np.ndarray) -> np.ndarray:
    """Each column to [-1, 1] (a constant column to 0)."""
    low, high = feats.min(0), feats.max(0)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, 2 * (feats - low) / span - 1, 0.0)


def cluster_purity(feats: np.ndarray, labels: np.ndarray, num_classes: int,
                   seed: int = 0) -> float:
    """Purity of k-means with ``num_classes`` clusters on the min-max scaled
    features: the share of samples whose label is their cluster's most
    frequent one."""
    from sklearn.cluster import KMeans
    clusters = KMeans(n_clusters=num_classes, random_state=seed,
                      n_init=10).fit_predict(minmax_scale(feats))
    hits = sum(np.bincount(labels[clusters == c]).max()
               for c in np.unique(clusters))
    return float(hits) / len(labels)


def relearn_strength(gap: float, move_lambda: float) -> float:
    """w = tanh(lambda * g)."""
    return float(np.tanh(move_lambda * gap))


@torch.no_grad()
def soft_reinit(params: Sequence[torch.Tensor],
                init: Sequence[torch.Tensor], strength: float) -> None:
    """theta <- w theta_init + (1 - w) theta, in place."""
    for p, p0 in zip(params, init):
        p.mul_(1 - strength).add_(p0.to(p.device, p.dtype), alpha=strength)


@HOOKS.register_module()
class DiagnoseRelearnHook(Hook):
    """Diagnose each encoder and softly re-initialise it, every few epochs.

    Args:
        reinit_every: Diagnose before epochs e > 0 with e % reinit_every == 0
            (the code's script: 20 of 90 epochs).
        max_reinits: At most this many diagnoses (the code: 3).
        move_lambda: lambda of w = tanh(lambda g) (the code: 3).
        train_dataloader: The train split read with the test pipeline: its
            config, or the name of a top-level config key holding it.
        diagnosis_dataloader: The held-out split: a dataloader config, or the
            name of a top-level key (the paper: the validation split).
        seed: k-means' random state (the code: 0).
    """

    priority = 'NORMAL'
    CHECKPOINT_KEY = 'diagnose_relearn_init'

    def __init__(self,
                 reinit_every: int = 20,
                 max_reinits: int = 3,
                 move_lambda: float = 3.0,
                 train_dataloader: Union[str, dict] = 'train_eval_dataloader',
                 diagnosis_dataloader: Union[str, dict] = 'val_dataloader',
                 seed: int = 0):
        if reinit_every < 1 or max_reinits < 0:
            raise ValueError('DiagnoseRelearnHook needs reinit_every >= 1 and '
                             f'max_reinits >= 0, got {reinit_every}, '
                             f'{max_reinits}')
        self.reinit_every = reinit_every
        self.max_reinits = max_reinits
        self.move_lambda = move_lambda
        self.seed = seed
        self._train = TrainingSetValuation(train_dataloader,
                                           owner='DiagnoseRelearnHook')
        self._diagnosis_cfg = diagnosis_dataloader
        self._held_out: Optional[TrainingSetValuation] = None
        #: Modality -> the encoder's parameters at initialisation.
        self.init: Optional[Dict[str, List[torch.Tensor]]] = None
        #: One entry per diagnosis: epoch, purities, gaps, strengths.
        self.history: List[dict] = []

    # -- the initial parameters, kept in the checkpoint ------------------------
    def before_train(self, runner: Runner) -> None:
        if self.init is None:  # a fresh run (a resumed one loaded them)
            model = unwrap_model(runner.model)
            self.init = {m: [p.detach().cpu().clone()
                             for p in model.encoders[m].parameters()]
                         for m in model.modalities}

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        if self.init is not None:
            checkpoint[self.CHECKPOINT_KEY] = self.init

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        if self.CHECKPOINT_KEY in checkpoint:
            self.init = checkpoint[self.CHECKPOINT_KEY]

    # -- the diagnosis ----------------------------------------------------------
    def due(self, epoch: int) -> bool:
        """Whether a diagnosis runs before ``epoch``."""
        return (epoch > 0 and epoch % self.reinit_every == 0
                and epoch // self.reinit_every <= self.max_reinits)

    def before_train_epoch(self, runner: Runner) -> None:
        if not self.due(runner.epoch):
            return
        model = unwrap_model(runner.model)
        if self.init is None:
            raise RuntimeError('DiagnoseRelearnHook: no initial parameters '
                               '(the checkpoint was saved without them)')
        purities = {'train': self._purities(runner, model, self._train)}
        purities['held_out'] = self._purities(runner, model,
                                              self._held_out_pass(runner))
        entry = {'epoch': runner.epoch}
        for m in model.modalities:
            gap = abs(purities['train'][m] - purities['held_out'][m])
            strength = relearn_strength(gap, self.move_lambda)
            soft_reinit(list(model.encoders[m].parameters()), self.init[m],
                        strength)
            entry[m] = dict(train=purities['train'][m],
                            held_out=purities['held_out'][m], gap=gap,
                            strength=strength)
            runner.logger.info(
                f'Diagnose & re-learn before epoch {runner.epoch}: {m} '
                f'purity train {entry[m]["train"]:.3f}, held-out '
                f'{entry[m]["held_out"]:.3f}, gap {gap:.3f}, re-init '
                f'strength {strength:.3f}')
        self.history.append(entry)

    def _held_out_pass(self, runner: Runner) -> TrainingSetValuation:
        if self._held_out is None:
            cfg = self._diagnosis_cfg
            if isinstance(cfg, str):
                if cfg not in runner.cfg:
                    raise KeyError(f'DiagnoseRelearnHook: the config has no '
                                   f'{cfg!r} for the diagnosis split')
                cfg = runner.cfg[cfg]
            self._held_out = TrainingSetValuation(
                cfg, owner='DiagnoseRelearnHook (diagnosis split)')
        return self._held_out

    def _purities(self, runner: Runner, model,
                  split: TrainingSetValuation) -> Dict[str, float]:
        split.build(runner)
        rows = split.run(model, lambda feats, labels, samples: [
            (int(y), {m: feats[m][i].float().cpu().numpy()
                      for m in model.modalities})
            for i, y in enumerate(labels.tolist())])
        rows.sort(key=lambda r: r[0])  # the same order on every rank
        labels = np.array([row[0] for _, row in rows])
        return {m: cluster_purity(np.stack([row[1][m] for _, row in rows]),
                                  labels, model.num_classes, self.seed)
                for m in model.modalities}

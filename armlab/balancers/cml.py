"""CML: calibrating multimodal learning.

Ma et al., "Calibrating Multimodal Learning", ICML 2023 (configs/cml/
README.md). A jointly trained model can grow *more* confident when a
modality is taken away, a sign that it does not use what that modality
says. CML adds a ranking penalty that keeps the confidence from rising as
modalities are removed, here as BalanceBenchmark reads it (no official code
was used):

* each epoch draws a random order pi of the modalities (seeded by the run's
  seed and the epoch, so a resumed run draws the same);
* the chain z^(0) = z, z^(k) = the fused head with pi_1..pi_k removed (the
  masked forward), k = 1..M-1;
* L = (1/M) sum_k CE(z^(k), y)
      + lambda * sum_k mean_i max(0, conf(z^(k))_i - conf(z^(k-1))_i),
  conf = the maximum softmax probability.
"""
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from armlab.registry import MODELS
from .base import Balancer


def confidence(logits: torch.Tensor) -> torch.Tensor:
    """(B,) maximum softmax probability."""
    return logits.float().softmax(1).max(1).values


def confidence_hinge(reduced: torch.Tensor, fuller: torch.Tensor,
                     reduction: str = 'sample') -> torch.Tensor:
    """The penalty on a rise of confidence from ``fuller`` to ``reduced``
    logits: mean_i max(0, conf(reduced)_i - conf(fuller)_i) (``'sample'``)
    or max(0, sum_i ...) over the batch (``'batch'``, BalanceBenchmark's)."""
    gap = confidence(reduced) - confidence(fuller)
    if reduction == 'batch':
        return gap.sum().clamp_min(0)
    return gap.clamp_min(0).mean()


@MODELS.register_module()
class CMLBalancer(Balancer):
    """The calibration chain's cross-entropies and confidence hinges.

    Args:
        hinge_weight: lambda (BalanceBenchmark: 0.1).
        reduction: ``'sample'`` (a hinge per sample, batch mean; the
            paper's per-sample ranking) or ``'batch'`` (one hinge on the
            batch sum, BalanceBenchmark's).
        seed: Seed of the per-epoch orders (with the epoch).
    """

    REDUCTIONS = ('sample', 'batch')

    def __init__(self, hinge_weight: float = 0.1, reduction: str = 'sample',
                 seed: int = 0):
        super().__init__()
        if reduction not in self.REDUCTIONS:
            raise ValueError(f'CMLBalancer reduction must be one of '
                             f'{self.REDUCTIONS}, got {reduction!r}')
        self.hinge_weight = hinge_weight
        self.reduction = reduction
        self.seed = seed

    def order(self, modalities, epoch: int) -> Tuple[str, ...]:
        """The epoch's removal order."""
        rng = np.random.default_rng([self.seed, epoch])
        return tuple(modalities[i] for i in rng.permutation(len(modalities)))

    def chain(self, model, epoch: int) -> List[Tuple[str, ...]]:
        """The present modalities of z^(0) .. z^(M-1)."""
        order = self.order(model.modalities, epoch)
        return [tuple(m for m in model.modalities if m not in order[:k])
                for k in range(len(order))]

    def losses(self, model, feats, logits, data_samples, losses):
        if len(model.modalities) < 2:
            raise ValueError(f'CMLBalancer removes modalities one at a time; '
                             f'the model has {model.modalities}')
        labels = self.labels(data_samples)
        subsets = self.chain(model, self.current_epoch())
        reduced = model.masked_logits(feats, subsets[1:],
                                      present=model._present(data_samples))
        chain = [logits] + [reduced[s] for s in subsets[1:]]
        num = len(model.modalities)
        out = dict(losses)
        out['loss_cls'] = (losses['loss_cls'] + sum(
            F.cross_entropy(z, labels) for z in chain[1:])) / num
        out['loss_calibration'] = self.hinge_weight * sum(
            confidence_hinge(chain[k], chain[k - 1], self.reduction)
            for k in range(1, len(chain)))
        return out

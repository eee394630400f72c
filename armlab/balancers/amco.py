"""AMCo: adaptive mask co-optimisation of the dependent modality.

Zhou et al., "Adaptive Mask Co-Optimization for Modal Dependence in
Multimodal Learning", ICASSP 2023 (configs/amco/README.md). No official code
was found and the paper's equations were not read here: this is the
mechanism of BalanceBenchmark's AMCo trainer (read, not copied). A model
comes to depend on one modality; AMCo finds that modality from the share of
softmax mass its logits hold, and hides part of it behind a random mask
whose ratio rises on a sine ramp, so that the others must carry the fused
prediction:

* z_m = W_m h_m + b / M the decomposed logits; the batch mean share
  c_m = mean_i sum_k softmax([z_1; ...; z_M])_{i, (m, k)} of the M*K
  concatenated logits; m is *dependent* for the next step when c_m > sigma
  (BalanceBenchmark: sigma 0.5). No modality is dependent at the start of an
  epoch.
* the mask ratio at batch j of epoch e: p = sin(pi/2 * min(eps, l) / eps)
  with l = j * e * growth (eps 0.3, growth 0.1: l grows by e/10 per batch and
  restarts every epoch), a random 0/1 mask with floor(p * U) zeros;
* ``mask='logits'`` (BalanceBenchmark's trainer as of its latest version):
  U = K, the dependent modality's decomposed logits are multiplied by the
  class mask and the fused logits are their sum; ``mask='features'`` (its
  earlier version): U = D, the dependent modality's features are multiplied
  by the mask and rescaled by 1 / (1 - p) (by 10 when p is within 0.1 of 1);
* inside the modulation window, L = CE(z, y) + sum_m CE(z_m, y) on the masked
  logits; outside it, plain joint training.

Prediction is never masked. The ramp reaches p = 1 after a few batches of
every epoch from epoch 1 on (l = 0.3 after 3/e batches): from then on the
dependent modality is hidden completely, as in BalanceBenchmark.
"""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F

from armlab.registry import MODELS
from .base import Balancer, all_reduce_mean
from .ogm_ge import per_modality_logits


def mask_ratio(batch_in_epoch: int, epoch: int, eps: float = 0.3,
               growth: float = 0.1) -> float:
    """p = sin(pi/2 * min(eps, l) / eps), l = batch_in_epoch * epoch *
    growth: 0 in epoch 0 and at each epoch's first batch, 1 once l >= eps."""
    level = batch_in_epoch * epoch * growth
    return math.sin(math.pi / 2 * min(eps, level) / eps)


def random_mask(size: int, ratio: float, device=None) -> torch.Tensor:
    """A (size,) float mask with floor(ratio * size) zeros at random
    places, the rest ones."""
    zeros = int(ratio * size)
    mask = torch.ones(size, device=device)
    mask[torch.randperm(size, device=device)[:zeros]] = 0.0
    return mask


def inverted_dropout_scale(ratio: float) -> float:
    """1 / (1 - p), capped at 10 where p is within 0.1 of 1 (the feature
    mask's rescale in BalanceBenchmark)."""
    return 1.0 / (1.0 - ratio) if abs(ratio - 1.0) > 0.1 else 10.0


def dependence_shares(parts: Dict[str, torch.Tensor], modalities
                      ) -> torch.Tensor:
    """(M,) the batch mean softmax mass each modality's block holds in the
    softmax over all M*K concatenated decomposed logits (no gradient)."""
    with torch.no_grad():
        joint = torch.cat([parts[m].detach().float() for m in modalities], 1)
        probs = joint.softmax(1).view(joint.shape[0], len(modalities), -1)
        return probs.sum(2).mean(0)


@MODELS.register_module()
class AMCoBalancer(Balancer):
    """Masks the modality the model depends on, with a rising ratio.

    Args:
        sigma: Share of the softmax mass above which a modality is dependent
            (BalanceBenchmark: 0.5).
        eps: Level at which the sine ramp reaches p = 1 (0.3).
        growth: Per-batch growth of the level, times the epoch (0.1).
        mask: ``'logits'`` (a class mask on the decomposed logits) or
            ``'features'`` (a feature mask with inverted-dropout rescale).
        start_epoch: First epoch (0-based) of the modulation window
            (BalanceBenchmark: 10 of 70).
        end_epoch: Epoch at which the window closes (exclusive; None: never).
    """

    MASKS = ('logits', 'features')

    def __init__(self,
                 sigma: float = 0.5,
                 eps: float = 0.3,
                 growth: float = 0.1,
                 mask: str = 'logits',
                 start_epoch: int = 0,
                 end_epoch: Optional[int] = None):
        super().__init__()
        if mask not in self.MASKS:
            raise ValueError(f'AMCoBalancer mask must be one of {self.MASKS}, '
                             f'got {mask!r}')
        if not 0.0 < sigma < 1.0:
            raise ValueError(f'AMCoBalancer sigma is a share of the softmax '
                             f'mass, in (0, 1); got {sigma}')
        if eps <= 0:
            raise ValueError(f'AMCoBalancer eps must be > 0, got {eps}')
        self.sigma = sigma
        self.eps = eps
        self.growth = growth
        self.mask = mask
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        #: Modality -> dependent at the next step; the epoch it belongs to
        #: (every epoch starts with none, so a resumed run, which starts an
        #: epoch, needs nothing from the checkpoint).
        self._dependent: Dict[str, bool] = {}
        self._dependent_epoch = -1
        self._masked_feats: Optional[Dict[str, torch.Tensor]] = None
        self._ratio = 0.0

    # -- helpers --------------------------------------------------------------
    def active(self) -> bool:
        return self.in_window(self.current_epoch(), self.start_epoch,
                              self.end_epoch)

    def dependent(self, model) -> Optional[str]:
        """The modality masked this step: the first one, in the model's
        order, found dependent at the previous step of this epoch."""
        if self._dependent_epoch != self.current_epoch():
            self._dependent, self._dependent_epoch = {}, self.current_epoch()
        for m in model.modalities:
            if self._dependent.get(m):
                return m
        return None

    def ratio(self) -> float:
        per_epoch = self.iters_per_epoch()
        epoch = self.current_epoch()
        batch = self.current_iter() - epoch * per_epoch if per_epoch else 0
        return mask_ratio(max(batch, 0), epoch, self.eps, self.growth)

    # -- balancer interface ---------------------------------------------------
    def fusion_features(self, model, feats):
        self._masked_feats = None
        if not (model.training and self.mask == 'features' and self.active()):
            return feats
        target = self.dependent(model)
        if target is None:
            return feats
        self._ratio = self.ratio()
        mask = random_mask(feats[target].shape[1], self._ratio,
                           feats[target].device)
        masked = dict(feats)
        masked[target] = feats[target] * mask.to(feats[target].dtype) * \
            inverted_dropout_scale(self._ratio)
        self._masked_feats = masked
        return masked

    def losses(self, model, feats, logits, data_samples, losses):
        if len(model.modalities) < 2:
            raise ValueError(
                'AMCoBalancer masks the modality a model depends on, so it '
                f'needs two or more; the model has {model.modalities}. Use '
                'JointTraining for one.')
        if not (model.training and self.active()):
            return losses
        labels = self.labels(data_samples)
        used = self._masked_feats if self._masked_feats is not None else feats
        parts = per_modality_logits(model, used, 'decompose', 'AMCoBalancer')
        out = dict(losses)
        target = self.dependent(model)
        if self.mask == 'logits' and target is not None:
            self._ratio = self.ratio()
            mask = random_mask(parts[target].shape[1], self._ratio,
                               parts[target].device)
            parts = dict(parts)
            parts[target] = parts[target] * mask.to(parts[target].dtype)
            out['loss_cls'] = model.loss_module(sum(parts.values()), labels)
        for m in model.modalities:
            out[f'loss_{m}'] = F.cross_entropy(parts[m], labels)
        shares = all_reduce_mean(dependence_shares(parts, model.modalities))
        self._dependent = {m: bool(shares[i] > self.sigma)
                           for i, m in enumerate(model.modalities)}
        for i, m in enumerate(model.modalities):
            out[f'amco_share_{m}'] = shares[i].to(labels.device)
            out[f'amco_masked_{m}'] = labels.new_tensor(
                float(m == target), dtype=torch.float)
        out['amco_ratio'] = labels.new_tensor(
            self._ratio if target is not None else 0.0, dtype=torch.float)
        return out

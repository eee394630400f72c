"""LFM: learning the modality gap dynamically.

Yang, Wan, Jiang, Xu, "Facilitating Multimodal Classification via
Dynamically Learning Modality Gap", NeurIPS 2024 (configs/lfm/README.md).
Modalities fit the labels at different difficulty; a supervised loss alone
lets the easy one decide. LFM mixes the cross-entropy of the averaged
per-modality heads with an unsupervised agreement term between their class
posteriors, with a weight that moves during training:

    L = 2 (alpha_1 CE(mean_m z_m, y) + alpha_2 mean_{m<m'} JS(p_m, p_m')),
    alpha_1 + alpha_2 = 1,

z_m the separate linear heads of ``SumFusion`` (their sum is the fused
logit; its argmax is the mean's), p_m = softmax(z_m), JS the Jensen-Shannon
divergence. alpha_1 follows the released code's fitted polynomial in the
epoch (``schedule='poly'``, on the code's 200-epoch axis scaled to the run)
or stays fixed (``'fixed'``).
"""
from itertools import combinations
from typing import Optional, Sequence

import torch
from mmengine.logging import MessageHub

from armlab.registry import MODELS
from .base import Balancer

#: alpha_1(t) = sum_i c_i t^i, the released code's fitted label weight.
POLY_COEFFS = (0.204624, 3.35473e-3, 1.22990e-4, -2.92947e-6, 2.23835e-8,
               -5.39718e-11)


def poly_label_weight(epoch: float,
                      coeffs: Sequence[float] = POLY_COEFFS) -> float:
    """alpha_1 at ``epoch`` of the code's 200-epoch schedule (not clipped:
    the code's alpha_2 is slightly negative around epochs 175-190)."""
    return sum(c * epoch ** i for i, c in enumerate(coeffs))


def js_divergence(p: torch.Tensor, q: torch.Tensor,
                  eps: float = 1e-12) -> torch.Tensor:
    """Batch mean of JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2, m the
    midpoint, for (B, K) probability rows; 0 iff p = q, at most log 2."""
    mid = 0.5 * (p + q)

    def kl(a, b):
        return (a * ((a + eps).log() - (b + eps).log())).sum(1)

    return (0.5 * kl(p, mid) + 0.5 * kl(q, mid)).mean()


@MODELS.register_module()
class LFMBalancer(Balancer):
    """Label loss and posterior agreement, mixed by a moving weight.

    Args:
        schedule: ``'poly'`` (the released code's heuristic) or
            ``'fixed'``.
        label_weight: alpha_1 when ``schedule='fixed'``.
        poly_epochs: Length of the schedule the polynomial was fitted to
            (the code's 200 epochs): epoch e of a run of E epochs reads the
            polynomial at e * poly_epochs / E.
    """

    SCHEDULES = ('poly', 'fixed')

    def __init__(self,
                 schedule: str = 'poly',
                 label_weight: float = 0.5,
                 poly_epochs: int = 200):
        super().__init__()
        if schedule not in self.SCHEDULES:
            raise ValueError(f'LFMBalancer schedule must be one of '
                             f'{self.SCHEDULES}, got {schedule!r}')
        if not 0 <= label_weight <= 1:
            raise ValueError(f'LFMBalancer label_weight must be in [0, 1], '
                             f'got {label_weight}')
        self.schedule = schedule
        self.label_weight = label_weight
        self.poly_epochs = poly_epochs

    def alpha(self, epoch: int, max_epochs: Optional[int]) -> float:
        """alpha_1 of ``epoch`` in a run of ``max_epochs``."""
        if self.schedule == 'fixed':
            return self.label_weight
        scale = self.poly_epochs / max_epochs if max_epochs else 1.0
        return poly_label_weight(epoch * scale)

    def losses(self, model, feats, logits, data_samples, losses):
        fusion = model.fusion
        if type(fusion).__name__ != 'SumFusion':
            raise ValueError(
                'LFMBalancer needs separate per-modality heads whose mean is '
                "the prediction: set model.fusion=dict(type='SumFusion'), "
                f'got {type(fusion).__name__}')
        if len(model.modalities) < 2:
            raise ValueError(f'LFMBalancer aligns two or more modalities; '
                             f'the model has {model.modalities}')
        if not model.training:
            return losses
        labels = self.labels(data_samples)
        num = len(model.modalities)
        parts = fusion.decompose(feats, weights=model.modality_weights)
        probs = {m: z.float().softmax(1) for m, z in parts.items()}
        align = torch.stack([js_divergence(probs[a], probs[b]) for a, b in
                             combinations(model.modalities, 2)]).mean()
        hub = MessageHub.get_current_instance()
        a1 = self.alpha(self.current_epoch(), hub.get_info('max_epochs'))
        losses['loss_cls'] = 2 * a1 * model.loss_module(logits / num, labels)
        losses['loss_align'] = 2 * (1 - a1) * align
        losses['lfm_label_weight'] = logits.new_tensor(a1)
        return losses


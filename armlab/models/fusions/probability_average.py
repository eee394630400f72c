"""Late fusion by averaging per-modality class probabilities.

The fusion of the unimodal ensemble: each modality m has its own linear head
H_m, and the fused prediction is the mean of the present modalities'
probabilities, p(y | x) = mean_m softmax(H_m(h_m)). The fused "logits" are
log p, so that softmax of them gives back exactly that mean. Trained with
:class:`~armlab.balancers.UnimodalEnsemble` (each head on its own
cross-entropy) it is the average of unimodal models; trained on the fused
loss it would be a jointly trained mixture, a different method.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import math

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class ProbabilityAverageFusion(BaseFusion):
    """Mean of the present modalities' softmax probabilities.

    An absent modality is left out of the mean (not replaced by a fill: an
    ensemble member that has no input casts no vote), so a single present
    modality gives exactly its own head's log-probabilities; with no
    modality present the prediction is uniform. ``fill`` is accepted for
    interface compatibility and never used.
    """

    decomposable = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heads = nn.ModuleDict({
            m: nn.Linear(c, self.num_classes)
            for m, c in self.in_channels.items()
        })

    def member_log_probs(self, feats: Dict[str, torch.Tensor],
                         weights: Optional[torch.Tensor] = None
                         ) -> torch.Tensor:
        """(B, M, K) log-probabilities of each modality's own head."""
        xs = self.weighted(feats, weights)
        return torch.stack([
            F.log_softmax(self.heads[m](x), dim=-1)
            for m, x in zip(self.modalities, xs)
        ], dim=1)

    @staticmethod
    def average(log_probs: torch.Tensor,
                present: Optional[torch.Tensor]) -> torch.Tensor:
        """log mean_{m present} p_m, uniform where no modality is present.

        Args:
            log_probs: (B, M, K) member log-probabilities.
            present: (B, M) bool or None (all present).
        """
        batch, members, classes = log_probs.shape
        if present is None:
            return torch.logsumexp(log_probs, dim=1) - math.log(members)
        present = present.to(device=log_probs.device, dtype=torch.bool)
        masked = log_probs.masked_fill(~present.unsqueeze(-1), float('-inf'))
        count = present.sum(1, keepdim=True)
        out = torch.logsumexp(masked, dim=1) - count.clamp(min=1).log()
        uniform = log_probs.new_full((batch, classes), -math.log(classes))
        return torch.where(count > 0, out, uniform)

    def forward(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.average(self.member_log_probs(feats, weights), present)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        log_probs = torch.stack([
            F.log_softmax(self.heads[m](x), dim=-1)
            for m, x in zip(self.modalities, xs)
        ], dim=1)
        return self.average(log_probs, None)

    def subset_logits(self, feats: Dict[str, torch.Tensor],
                      subsets: Sequence[Tuple[str, ...]],
                      weights: Optional[torch.Tensor] = None
                      ) -> Dict[Tuple[str, ...], torch.Tensor]:
        """One head pass per modality, whatever the number of subsets."""
        log_probs = self.member_log_probs(feats, weights)
        out = {}
        for subset in subsets:
            row = torch.tensor([m in subset for m in self.modalities],
                               device=log_probs.device)
            out[subset] = self.average(
                log_probs, row.expand(log_probs.shape[0], -1))
        return out

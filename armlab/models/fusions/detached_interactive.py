"""DI-MML's heads: detached unimodal heads, a shared head, a late fusion head.

Detached and Interactive Multimodal Learning (configs/dimml/README.md)
trains each encoder with its own head H_m and a head C shared by all
modalities, never on a fused loss; a fusion head F over the concatenated
features is trained afterwards on the frozen encoders. At inference every
member j (each present modality's H_m, and F once it is trained and every
modality is present) votes with its logits z_j, weighted per sample by its
confidence:

    z = sum_j w_j z_j,   w = softmax_j( max_k sigmoid(z_j)_k / tau ).

A modality absent from a sample casts no vote (as in the unimodal ensemble)
and F, a joint head, votes only where all modalities are present: it was
trained on complete pairs and a fill would put it outside what it saw. With
no member the prediction is uniform (zero logits).
"""
from typing import Dict, List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


def confidence_weighted_sum(members: torch.Tensor, valid: torch.Tensor,
                            temperature: float) -> torch.Tensor:
    """sum_j w_j z_j over the valid members, w = softmax_j(conf_j / tau).

    Args:
        members: (B, J, K) member logits.
        valid: (B, J) bool, False where a member casts no vote.
        temperature: tau of the softmax over members.

    Returns:
        (B, K) logits; zero on rows without a valid member.
    """
    confidence = members.sigmoid().amax(-1) / temperature
    confidence = confidence.masked_fill(~valid, float('-inf'))
    any_valid = valid.any(1, keepdim=True)
    weights = torch.where(any_valid, confidence, torch.zeros_like(
        confidence)).softmax(1) * valid
    return (weights.unsqueeze(-1) * members).sum(1)


@MODELS.register_module()
class DetachedInteractiveFusion(BaseFusion):
    """Per-modality heads H_m, a shared head C and a fusion head F.

    Args:
        combine_temperature: tau of the confidence weights at inference
            (official: 1 on CREMA-D, 3 on AVE).
        shared_head: Build the shared head C (it needs every modality's
            feature size to be equal).
        **kwargs: :class:`BaseFusion`'s arguments.

    The buffer ``fusion_head_trained`` (saved in checkpoints) says whether
    F votes: :class:`~armlab.balancers.dimml.DIMMLHook` sets it when the
    fusion stage begins.
    """

    decomposable = False

    def __init__(self, *args, combine_temperature: float = 1.0,
                 shared_head: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if combine_temperature <= 0:
            raise ValueError('DetachedInteractiveFusion combine_temperature '
                             f'must be > 0, got {combine_temperature}')
        self.combine_temperature = combine_temperature
        self.heads = nn.ModuleDict({
            m: nn.Linear(c, self.num_classes)
            for m, c in self.in_channels.items()})
        if shared_head:
            sizes = set(self.in_channels.values())
            if len(sizes) != 1:
                raise ValueError(
                    'DetachedInteractiveFusion: the shared head C reads every '
                    'modality, so their feature sizes must be equal; got '
                    f'{self.in_channels}. Widen the smaller encoder or set '
                    'shared_head=False')
            self.shared_head = nn.Linear(sizes.pop(), self.num_classes)
        else:
            self.shared_head = None
        self.fusion_head = nn.Linear(sum(self.in_channels.values()),
                                     self.num_classes)
        self.register_buffer('fusion_head_trained', torch.tensor(False))

    def unimodal_logits(self, feats: Dict[str, torch.Tensor],
                        weights: Optional[torch.Tensor] = None
                        ) -> Dict[str, torch.Tensor]:
        """Modality -> H_m(h_m), (B, K)."""
        xs = self.weighted(feats, weights)
        return {m: self.heads[m](x) for m, x in zip(self.modalities, xs)}

    def joint_logits(self, feats: Dict[str, torch.Tensor],
                     weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        """F([h_1; ...; h_M]), (B, K)."""
        return self.fusion_head(torch.cat(self.weighted(feats, weights), 1))

    def forward(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        singles = self.unimodal_logits(feats, weights)
        members = [singles[m] for m in self.modalities]
        batch = members[0].shape[0]
        if present is None:
            valid = members[0].new_ones(batch, len(members), dtype=torch.bool)
        else:
            valid = present.to(device=members[0].device, dtype=torch.bool)
        if bool(self.fusion_head_trained):
            members.append(self.joint_logits(feats, weights))
            valid = torch.cat([valid, valid.all(1, keepdim=True)], 1)
        return confidence_weighted_sum(torch.stack(members, 1), valid,
                                       self.combine_temperature)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return self(dict(zip(self.modalities, xs)))

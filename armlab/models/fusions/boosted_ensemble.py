"""A boosted ensemble of per-modality learners sharing one head.

ReconBoost (Hua et al., ICML 2024) treats each modality's encoder with a
shared classifier head G as a weak learner f_m = G(h_m) and predicts with the
ensemble F = beta * sum_m f_m, beta a learnable boost rate. An absent
modality's learner is left out of the sum (it contributes nothing, rather
than the head's output on a fill), so F without m is the ensemble of the
others that the method's reconcilement loss reads.
"""
from typing import Dict, Optional, Sequence

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class BoostedEnsembleFusion(BaseFusion):
    """F = beta * sum_{m present} G(h_m), G shared by all modalities.

    Args:
        hidden_channels: Widths of G's hidden layers (ReLU between);
            ReconBoost's head is 512 -> 256 -> ReLU -> K, i.e. ``(256, )``.
        boost_rate: Initial beta (learnable).
        **kwargs: :class:`BaseFusion` arguments. The fill is not used: an
            absent learner is dropped from the sum.
    """

    decomposable = True

    def __init__(self,
                 *args,
                 hidden_channels: Sequence[int] = (256, ),
                 boost_rate: float = 1.0,
                 **kwargs):
        super().__init__(*args, **kwargs)
        dims = sorted(set(self.in_channels.values()))
        if len(dims) != 1:
            raise ValueError(
                'BoostedEnsembleFusion shares one head across modalities, so '
                'every modality needs the same feature size; got '
                f'in_channels={self.in_channels}')
        layers, width = [], dims[0]
        for hidden in hidden_channels:
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]
            width = hidden
        layers.append(nn.Linear(width, self.num_classes))
        self.head = nn.Sequential(*layers)
        self.boost_rate = nn.Parameter(torch.tensor(float(boost_rate)))

    def learner(self, h: torch.Tensor) -> torch.Tensor:
        """One learner's logits f_m = G(h_m) (without the boost rate)."""
        return self.head(h)

    def forward(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        xs = self.weighted(feats, weights)
        total = 0
        for i, x in enumerate(xs):
            z = self.learner(x)
            if present is not None:
                z = z * present[:, i].to(device=z.device,
                                          dtype=z.dtype).view(-1, 1)
            total = total + z
        return self.boost_rate * total

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        xs = self.weighted(feats, weights)
        return {m: self.boost_rate * self.learner(x)
                for m, x in zip(self.modalities, xs)}

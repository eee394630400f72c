"""MMCosine's head: per-modality cosine logits, summed.

Xu, Feng, Zhang, Hu, ICASSP 2023 (configs/mmcosine/README.md). A concat head
lets the dominant modality win by growing its feature norm; normalising,
per modality, both the features and that modality's block of class weights
puts every modality's logits on the same scale [-s, s]:

    z_k = s * sum_m cos(h_m, w_{m,k}),

with W = [W_1 ... W_M] the concat head's weight split by columns and no
bias.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class CosineFusion(BaseFusion):
    """Sum over modalities of s * cos(h_m, w_{m,k}).

    Decomposable: z_m = s * cos(h_m, W_m), |z_m| <= s, summing to z. An
    absent modality with the zero fill contributes exactly 0 (a zero vector
    normalises to zero), so the masked logits of modality m are z_m. The
    logits are invariant to the norm of each h_m and of each class weight
    w_{m,k}, so feature weights applied to the features (rather than to the
    learning signal) have no effect under this head.

    Args:
        scale: s, the logit scale (10 in the official code, 15 in
            BalanceBenchmark).
        **kwargs: :class:`BaseFusion` arguments.
    """

    decomposable = True

    def __init__(self, *args, scale: float = 10.0, **kwargs):
        super().__init__(*args, **kwargs)
        if scale <= 0:
            raise ValueError(f'CosineFusion scale must be > 0, got {scale}')
        self.scale = float(scale)
        # One bias-free concat head, read by column blocks (fc.weight stays
        # where the balancers that read a head's weight look for it).
        self.fc = nn.Linear(sum(self.in_channels.values()), self.num_classes,
                            bias=False)

    def _terms(self, xs: List[torch.Tensor]) -> List[torch.Tensor]:
        blocks = self.fc.weight.split(list(self.in_channels.values()), dim=1)
        return [self.scale * F.normalize(x, dim=1) @
                F.normalize(w, dim=1).t() for x, w in zip(xs, blocks)]

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return torch.stack(self._terms(xs)).sum(0)

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        xs = self.weighted(feats, weights)  # no fill-mean update here
        return dict(zip(self.modalities, self._terms(xs)))

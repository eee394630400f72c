"""Late fusion by summing per-modality linear heads."""
from typing import Dict, List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class SumFusion(BaseFusion):
    """z = sum_m (W_m h_m + b_m); each head alone is that modality's logits.

    Unlike OGM-GE's original ``valid()``, the decomposed logits keep each
    head's full bias (OGM-GE issue #33).
    """

    decomposable = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heads = nn.ModuleDict({
            m: nn.Linear(c, self.num_classes)
            for m, c in self.in_channels.items()
        })

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return sum(self.heads[m](x) for m, x in zip(self.modalities, xs))

    def subset_logits(self, feats, subsets, weights=None):
        heads = [self.heads[m] for m in self.modalities]
        return self._additive_subset_logits(
            feats, subsets, weights, [h.weight for h in heads],
            sum(h.bias for h in heads))

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        xs = self.weighted(feats, weights)  # no fill-mean update here
        return {m: self.heads[m](x) for m, x in zip(self.modalities, xs)}

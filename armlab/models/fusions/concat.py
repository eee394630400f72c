"""Late fusion by concatenation: z = W[h_1; ...; h_M] + b."""
from typing import Dict, List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class ConcatFusion(BaseFusion):
    """Concatenate the features and apply one linear layer.

    Decomposed per-modality logits follow OGM-GE's convention:
    z_m = W_m h_m + b / M, so that they sum to the fused logits.
    """

    decomposable = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fc = nn.Linear(sum(self.in_channels.values()), self.num_classes)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return self.fc(torch.cat(xs, dim=1))

    def subset_logits(self, feats, subsets, weights=None):
        blocks = self.fc.weight.split(list(self.in_channels.values()), dim=1)
        return self._additive_subset_logits(feats, subsets, weights, blocks,
                                            self.fc.bias)

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        xs = self.weighted(feats, weights)  # no fill-mean update here
        blocks = self.fc.weight.split(list(self.in_channels.values()), dim=1)
        bias = self.fc.bias / len(self.modalities)
        return {
            m: x @ w.t() + bias
            for m, x, w in zip(self.modalities, xs, blocks)
        }

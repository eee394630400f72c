"""Gated fusion: a sigmoid gate from one modality scales the other."""
from typing import List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class GatedFusion(BaseFusion):
    """z = W_o(sigmoid(W_x h_x + b_x) * (W_y h_y + b_y)) + b_o.

    Args:
        gate: The modality x whose features produce the gate; defaults to the
            first modality.
        hidden: Width of the gated features (512 in OGM-GE).
    """

    num_modalities = 2

    def __init__(self, *args, gate: Optional[str] = None,
                 hidden: int = 512, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = gate or self.modalities[0]
        if self.gate not in self.modalities:
            raise ValueError(f'GatedFusion: gate {self.gate!r} is not one of '
                             f'{self.modalities}')
        self._x = self.modalities.index(self.gate)
        self._y = 1 - self._x
        self.fc_x = nn.Linear(self.in_channels[self.modalities[self._x]],
                              hidden)
        self.fc_y = nn.Linear(self.in_channels[self.modalities[self._y]],
                              hidden)
        self.fc_out = nn.Linear(hidden, self.num_classes)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        gate = torch.sigmoid(self.fc_x(xs[self._x]))
        return self.fc_out(gate * self.fc_y(xs[self._y]))

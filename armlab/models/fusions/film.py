"""FiLM fusion: one modality modulates the other's features."""
from typing import List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


@MODELS.register_module()
class FiLMFusion(BaseFusion):
    """[gamma; beta] = W_f h_x + b_f; z = W_o(gamma * h_y + beta) + b_o.

    Args:
        condition: The modality x that produces gamma and beta; defaults to
            the first modality. The other one, y, is modulated.
        hidden: Size of the modulated features; defaults to y's size.
    """

    num_modalities = 2

    def __init__(self, *args, condition: Optional[str] = None,
                 hidden: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.condition = condition or self.modalities[0]
        if self.condition not in self.modalities:
            raise ValueError(f'FiLMFusion: condition {self.condition!r} is '
                             f'not one of {self.modalities}')
        self._x = self.modalities.index(self.condition)
        self._y = 1 - self._x
        dim_x = self.in_channels[self.modalities[self._x]]
        dim_y = self.in_channels[self.modalities[self._y]]
        if hidden is not None and hidden != dim_y:
            self.proj_y = nn.Linear(dim_y, hidden)
        else:
            self.proj_y, hidden = nn.Identity(), dim_y
        self.film = nn.Linear(dim_x, 2 * hidden)
        self.fc_out = nn.Linear(hidden, self.num_classes)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        gamma, beta = self.film(xs[self._x]).chunk(2, dim=1)
        return self.fc_out(gamma * self.proj_y(xs[self._y]) + beta)

"""An encoder for precomputed feature sequences (IEMOCAP-style files)."""
from typing import Sequence

import torch
from torch import nn

from armlab.registry import MODELS
from .mlp import MLPEncoder


@MODELS.register_module()
class SequenceEncoder(nn.Module):
    """Masked temporal mean of (B, T, D) features, then an MLP.

    ``LoadFeatures`` pads short sequences with zero rows; those rows are left
    out of the mean (a row that is exactly zero is treated as padding), so a
    sequence's feature does not depend on the padded length. With one
    feature vector per sample (T = 1) it is the plain MLP.

    Input (B, T, D), or (B, 1, T, D) as packed for ``audio``, or (B, D).

    Args:
        in_channels: D, the feature size.
        out_channels: Size of the output feature vector.
        hidden_channels: Hidden layers of the MLP (may be empty).
    """

    def __init__(self, in_channels: int, out_channels: int = 64,
                 hidden_channels: Sequence[int] = ()):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mlp = MLPEncoder(in_channels, out_channels, hidden_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4 and x.shape[1] == 1:
            x = x.squeeze(1)
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise ValueError(f'SequenceEncoder expects (B, T, '
                             f'{self.in_channels}) features, got shape '
                             f'{tuple(x.shape)}')
        valid = (x != 0).any(-1, keepdim=True).to(x.dtype)
        pooled = (x * valid).sum(1) / valid.sum(1).clamp(min=1.0)
        return self.mlp(pooled)

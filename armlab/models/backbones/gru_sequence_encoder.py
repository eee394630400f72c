"""Project a feature sequence without bias, then run a GRU over it.

CIDer's per-modality front end (configs/cider/README.md): a 1x1 convolution
without bias maps the (B, T, D) features to width d (so a zero-filled,
missing frame projects to exactly 0), and one unidirectional GRU layer runs
over every step, padding included, as in CIDer (no packing).
"""
import torch
from torch import nn

from armlab.registry import MODELS
from .sequence_projector import as_sequence


@MODELS.register_module()
class GRUSequenceEncoder(nn.Module):
    """(B, T, D) -> (B, T, d): Conv1d(k=1, no bias) to d, then a GRU(d, d).

    Args:
        in_channels: D, the feature size.
        out_channels: d, the common width (CIDer: 32).
    """

    def __init__(self, in_channels: int, out_channels: int = 32):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.proj = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.gru = nn.GRU(out_channels, out_channels, batch_first=True)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, d), the bias-free projection alone (CIDer's
        word alignment acts between it and the GRU)."""
        x = as_sequence(x, self.in_channels, 'GRUSequenceEncoder')
        return self.proj(x.transpose(1, 2)).transpose(1, 2)

    def recur(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, T, d), the GRU over projected steps."""
        return self.gru(z)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.recur(self.project(x))

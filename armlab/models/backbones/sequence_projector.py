"""Project a feature sequence to a common width, with positions.

The front of a cross-modal transformer (MulT, Tsai et al., ACL 2019): each
modality's (B, T, D_m) features go through a 1-D convolution to width d and
get sinusoidal positions, so that the modalities can attend to each other.
Rows that are exactly zero are padding (``LoadFeatures`` pads with zero
rows); :func:`padding_mask` finds them.
"""
import math

import torch
from torch import nn

from armlab.registry import MODELS


def padding_mask(x: torch.Tensor) -> torch.Tensor:
    """(B, T) True where the (B, T, D) row is padding (all zeros)."""
    return ~(x != 0).any(-1)


def as_sequence(x: torch.Tensor, in_channels: int, owner: str
                ) -> torch.Tensor:
    """(B, T, D) from the packed shapes (B, 1, T, D), (B, T, D) or (B, D)."""
    if x.dim() == 4 and x.shape[1] == 1:
        x = x.squeeze(1)
    if x.dim() == 2:
        x = x.unsqueeze(1)
    if x.dim() != 3 or x.shape[-1] != in_channels:
        raise ValueError(f'{owner} expects (B, T, {in_channels}) features, '
                         f'got shape {tuple(x.shape)}')
    return x


def common_width(encoders: dict, modalities, owner: str) -> int:
    """The one ``out_channels`` of the chosen encoders' configs, for models
    that attend across modalities at one width."""
    widths = {encoders[m].get('out_channels') for m in modalities}
    if len(widths) != 1 or None in widths:
        raise ValueError(
            f'{owner} attends across modalities at one width: give every '
            'encoder the same out_channels, got '
            f'{ {m: encoders[m].get("out_channels") for m in modalities} }')
    return widths.pop()


def sinusoidal_positions(length: int, dims: int,
                         device=None) -> torch.Tensor:
    """(length, dims) sine / cosine positions of 'Attention is all you
    need'."""
    position = torch.arange(length, device=device).float()[:, None]
    freq = torch.exp(torch.arange(0, dims, 2, device=device).float() *
                     (-math.log(10000.0) / dims))
    out = torch.zeros(length, dims, device=device)
    out[:, 0::2] = torch.sin(position * freq)
    out[:, 1::2] = torch.cos(position * freq[:dims // 2])
    return out


@MODELS.register_module()
class SequenceProjector(nn.Module):
    """(B, T, D) -> (B, T, d): Conv1d(kernel_size) to d, sqrt(d) scale,
    sinusoidal positions, dropout. Padding rows stay zero.

    Args:
        in_channels: D, the feature size.
        out_channels: d, the common width.
        kernel_size: Temporal kernel of the projection (MulT: 1 or 3).
        dropout: Dropout on the projected sequence.
    """

    def __init__(self, in_channels: int, out_channels: int = 32,
                 kernel_size: int = 1, dropout: float = 0.0):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.proj = nn.Conv1d(in_channels, out_channels, kernel_size,
                              padding=(kernel_size - 1) // 2, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = as_sequence(x, self.in_channels, 'SequenceProjector')
        pad = padding_mask(x)
        z = self.proj(x.transpose(1, 2)).transpose(1, 2)
        z = z * math.sqrt(self.out_channels) + sinusoidal_positions(
            z.shape[1], self.out_channels, z.device).to(z.dtype)
        return self.dropout(z).masked_fill(pad[..., None], 0.0)

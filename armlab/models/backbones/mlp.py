"""A small MLP encoder for modalities given as feature vectors."""
from typing import Sequence

import torch
from torch import nn

from armlab.registry import MODELS


@MODELS.register_module()
class MLPEncoder(nn.Module):
    """Flatten the input and apply Linear-ReLU layers.

    For precomputed features (IEMOCAP-style feature files) and for tests that
    need an encoder whose behaviour is easy to control.

    Args:
        in_channels: Size of the flattened input.
        hidden_channels: Sizes of the hidden layers (may be empty).
        out_channels: Size of the output feature vector.
    """

    def __init__(self, in_channels: int, out_channels: int = 64,
                 hidden_channels: Sequence[int] = ()):
        super().__init__()
        sizes = [in_channels, *hidden_channels, out_channels]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'MLPEncoder expects {self.in_channels} input '
                             f'features, got {x.shape[1]}')
        return self.layers(x)

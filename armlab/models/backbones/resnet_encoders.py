"""ResNet encoders for spectrograms and frame sequences.

Both wrap mmpretrain's ResNet (BasicBlock 2-2-2-2 for depth 18, Kaiming init,
trained from scratch as in the OGM-GE lineage) and return one pooled feature
vector per sample, which is what every fusion and balancer consumes.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import ResNet

from armlab.registry import MODELS


class _PooledResNet(ResNet):
    """mmpretrain ResNet whose last stage is average-pooled to (B, D).

    Args:
        depth: ResNet depth (18, 34, 50, ...).
        in_channels: Input channels (1 for a spectrogram, 3 for RGB frames).
        base_channels: Width of the first stage; 64 is the standard ResNet,
            8 or 16 make CPU tests and the embedded benchmark fast.
        stem_channels: Stem width; defaults to ``base_channels``.
        channels_last: Keep weights and activations in NHWC memory format,
            which tensor cores prefer (with ``--amp`` on a GPU); on CPU it
            changes nothing but speed. Outputs equal the default layout's.
        **kwargs: Passed to :class:`mmpretrain.models.backbones.ResNet`.
    """

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 stem_channels: Optional[int] = None,
                 channels_last: bool = False,
                 **kwargs):
        super().__init__(
            depth=depth,
            in_channels=in_channels,
            base_channels=base_channels,
            stem_channels=stem_channels or base_channels,
            out_indices=(3, ),
            **kwargs)
        expansion = self.block.expansion if self.expansion is None \
            else self.expansion
        self.out_channels = base_channels * 2**(self.num_stages - 1) * \
            expansion
        self.channels_last = channels_last
        if channels_last:
            # In-place initialisation and checkpoint loading keep the format.
            self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True):
        # mmpretrain's ResNet.train returns None; keep nn.Module's chaining.
        super().train(mode)
        return self

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x)[-1]


@MODELS.register_module()
class SpectrogramResNet(_PooledResNet):
    """ResNet over a spectrogram treated as a one-channel image.

    Input (B, 1, F, T); output (B, D) after 2-D global average pooling.
    """

    def __init__(self, depth: int = 18, in_channels: int = 1, **kwargs):
        super().__init__(depth=depth, in_channels=in_channels, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:  # (B, F, T): add the channel axis
            x = x.unsqueeze(1)
        if x.dim() != 4:
            raise ValueError('SpectrogramResNet expects (B, 1, F, T) input, '
                             f'got shape {tuple(x.shape)}')
        return F.adaptive_avg_pool2d(self._trunk(x), 1).flatten(1)


@MODELS.register_module()
class FrameResNet(_PooledResNet):
    """ResNet applied to each of T frames, then 3-D average pooling.

    Input (B, C, T, H, W); the frames are encoded as B*T images and the
    (B, D, T, h, w) maps are averaged over time and space, as in OGM-GE.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # a single frame per clip: (B, C, H, W)
            x = x.unsqueeze(2)
        if x.dim() != 5:
            raise ValueError('FrameResNet expects (B, C, T, H, W) input, '
                             f'got shape {tuple(x.shape)}')
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        maps = self._trunk(frames)
        return maps.reshape(b, t, *maps.shape[1:]).mean(dim=(1, 3, 4))

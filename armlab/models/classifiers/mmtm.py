"""MMTM mid-fusion classifier: the model that Greedy (Wu et al. 2022) needs.

MMTM (Joze et al., CVPR 2020) lets two convolutional branches exchange
information between stages: each branch is squeezed by global average
pooling, a joint code z = ReLU(W_s [s_a; s_v]) is formed, and every branch is
rescaled channel-wise by its own excitation e_m = k * sigmoid(W_m z). Greedy's
*re-balancing step* replaces the excitation of one ("caring") branch by the
running average of its own excitations, a constant, so that no cross-modal
signal enters that branch and it must learn from its own input.

The late fusion head of :class:`MultimodalClassifier` is unchanged, so masked
forwards, per-modality metrics and valuation keep working on the pooled
(B, D) features (which, with MMTM, already carry the other modality).
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

from armlab.registry import MODELS
from ..backbones.resnet_encoders import FrameResNet, SpectrogramResNet
from .multimodal import MultimodalClassifier


class MMTMBlock(nn.Module):
    """One multimodal transfer module between two branches.

    Branch maps are image batches (B * T_m, C_m, h, w), T_m frames per clip
    (1 for a spectrogram), so that the squeeze averages over time and space.

    Args:
        channels: Modality -> channels C_m of its map (exactly two).
        ratio: Reduction ratio r; the joint code has 2 (C_a + C_v) / r units,
            as in the MMTM and Greedy code (r = 4: half the total channels).
        excitation_scale: k in e_m = k * sigmoid(W_m z): 1 as in the Greedy
            card and code, 2 as in the MMTM paper (identity at init).
        momentum: None: the running excitations are cumulative means over
            all training forwards (Greedy code); a float: an EMA whose new
            batch has weight ``momentum`` (BatchNorm's convention).
    """

    def __init__(self,
                 channels: Dict[str, int],
                 ratio: float = 4,
                 excitation_scale: float = 1.0,
                 momentum: Optional[float] = None):
        super().__init__()
        if len(channels) != 2:
            raise ValueError('MMTMBlock joins exactly two branches, got '
                             f'{list(channels)}')
        self.modalities = tuple(channels)
        self.excitation_scale = excitation_scale
        self.momentum = momentum
        hidden = max(1, int(2 * sum(channels.values()) / ratio))
        self.squeeze = nn.Linear(sum(channels.values()), hidden)
        self.excite = nn.ModuleDict(
            {m: nn.Linear(hidden, c) for m, c in channels.items()})
        for m, c in channels.items():
            # Each branch's running average is its own excitation, sized with
            # its own channels (the Greedy code mixes them up).
            self.register_buffer(f'running_excitation_{m}', torch.zeros(c))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        #: The branch whose excitation a re-balancing step freezes (or None).
        self.caring: Optional[str] = None

    def running_excitation(self, modality: str) -> torch.Tensor:
        return getattr(self, f'running_excitation_{modality}')

    @staticmethod
    def squeeze_map(x: torch.Tensor, frames: int) -> torch.Tensor:
        """(B * T, C, h, w) -> (B, C): mean over time and space."""
        return x.reshape(-1, frames, *x.shape[1:]).mean(dim=(1, 3, 4))

    def excitations(self, maps: Dict[str, torch.Tensor],
                    frames: Dict[str, int]) -> Dict[str, torch.Tensor]:
        """Per-branch excitations (B, C_m) from both branches' maps."""
        squeezed = [self.squeeze_map(maps[m], frames[m])
                    for m in self.modalities]
        z = torch.relu(self.squeeze(torch.cat(squeezed, dim=1)))
        return {m: self.excitation_scale * torch.sigmoid(self.excite[m](z))
                for m in self.modalities}

    @torch.no_grad()
    def _update_running(self, excitations: Dict[str, torch.Tensor]) -> None:
        n = int(self.num_updates)
        w = 1.0 / (n + 1) if self.momentum is None or n == 0 \
            else self.momentum
        for m, e in excitations.items():
            running = self.running_excitation(m)
            running.lerp_(e.mean(0).to(running.dtype), w)
        self.num_updates += 1

    def forward(self, maps: Dict[str, torch.Tensor],
                frames: Dict[str, int]) -> Dict[str, torch.Tensor]:
        excitations = self.excitations(maps, frames)
        if self.training:
            self._update_running(excitations)
            if self.caring is not None:
                # A constant: no gradient, no cross-modal signal.
                e = excitations[self.caring]
                excitations[self.caring] = self.running_excitation(
                    self.caring).to(e.dtype).expand_as(e)
        out = {}
        for m, x in maps.items():
            e = excitations[m].repeat_interleave(frames[m], dim=0)
            out[m] = x * e[:, :, None, None]
        return out


@MODELS.register_module()
class MMTMClassifier(MultimodalClassifier):
    """Two ResNet branches joined by MMTM blocks, then the late fusion head.

    The encoders are run stage by stage (stem, layer1 ... layerN) and an MMTM
    block follows each stage in ``mmtm_stages``; the pooled features then go
    to the fusion as in :class:`MultimodalClassifier`.

    Args:
        mmtm_stages: 1-based ResNet stages followed by an MMTM block; the
            default (2, 3, 4) is Greedy's model. ``()`` gives the plain
            late-fusion model.
        mmtm: Options of every :class:`MMTMBlock` (``ratio``,
            ``excitation_scale``, ``momentum``).
        **kwargs: As :class:`MultimodalClassifier`; the encoders must be
            ``SpectrogramResNet`` / ``FrameResNet`` with as many stages.
    """

    def __init__(self,
                 *args,
                 mmtm_stages: Sequence[int] = (2, 3, 4),
                 mmtm: Optional[dict] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if len(self.modalities) != 2:
            raise ValueError(
                'MMTMClassifier joins exactly two modalities (MMTM is '
                f'pairwise), got {self.modalities}; use MultimodalClassifier '
                'for other counts.')
        for m, enc in self.encoders.items():
            if not isinstance(enc, (SpectrogramResNet, FrameResNet)):
                raise TypeError(
                    f'MMTMClassifier runs its encoders stage by stage and '
                    f'needs SpectrogramResNet or FrameResNet; encoder {m!r} '
                    f'is {type(enc).__name__}.')
        stage_names = [tuple(enc.res_layers) for enc in self.encoders.values()]
        if stage_names[0] != stage_names[1]:
            raise ValueError('MMTMClassifier needs encoders with the same '
                             f'stages, got {stage_names}')
        self.stage_names: Tuple[str, ...] = stage_names[0]
        bad = [s for s in mmtm_stages
               if not 1 <= int(s) <= len(self.stage_names)]
        if bad:
            raise ValueError(f'mmtm_stages {bad} out of range: the encoders '
                             f'have stages 1..{len(self.stage_names)}')
        self.mmtm_stages = tuple(sorted({int(s) for s in mmtm_stages}))
        self.mmtm = nn.ModuleDict({
            self.stage_names[s - 1]: MMTMBlock(
                {m: self._stage_channels(m, s) for m in self.modalities},
                **(mmtm or {}))
            for s in self.mmtm_stages
        })

    def _stage_channels(self, modality: str, stage: int) -> int:
        enc = self.encoders[modality]
        return getattr(enc, enc.res_layers[stage - 1])[-1].out_channels

    # -- Greedy's hooks -----------------------------------------------------
    def set_caring(self, modality: Optional[str]) -> None:
        """Make the next training forwards re-balancing steps for
        ``modality`` (its excitation frozen in every block); None: regular
        steps. Evaluation forwards are never re-balanced."""
        if modality is not None and modality not in self.modalities:
            raise KeyError(f'unknown modality {modality!r}; the model has '
                           f'{self.modalities}')
        for block in self.mmtm.values():
            block.caring = modality

    def bypass_parameters(self, modality: str) -> List[nn.Parameter]:
        """The cross-modal path into ``modality``'s branch: the excitation
        W_m of every block and the shared squeeze W_s (which both bypasses
        use, as counted by the Greedy code)."""
        params = []
        for block in self.mmtm.values():
            params += list(block.squeeze.parameters())
            params += list(block.excite[modality].parameters())
        return params

    def main_parameters(self, modality: str) -> Iterator[nn.Parameter]:
        """The unimodal branch of ``modality``: its encoder."""
        return self.encoders[modality].parameters()

    # -- features -----------------------------------------------------------
    @staticmethod
    def _to_images(encoder: nn.Module, x: torch.Tensor
                   ) -> Tuple[torch.Tensor, int]:
        """An encoder's input as an image batch and its frames per clip,
        with the shapes the encoders' own ``forward`` accepts."""
        if isinstance(encoder, SpectrogramResNet):
            if x.dim() == 3:
                x = x.unsqueeze(1)
            if x.dim() != 4:
                raise ValueError('SpectrogramResNet expects (B, 1, F, T) '
                                 f'input, got shape {tuple(x.shape)}')
            return x, 1
        if x.dim() == 4:
            x = x.unsqueeze(2)
        if x.dim() != 5:
            raise ValueError('FrameResNet expects (B, C, T, H, W) input, '
                             f'got shape {tuple(x.shape)}')
        b, c, t, h, w = x.shape
        return x.transpose(1, 2).reshape(b * t, c, h, w), t

    @staticmethod
    def _stem(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if encoder.deep_stem:
            x = encoder.stem(x)
        else:
            x = encoder.relu(encoder.norm1(encoder.conv1(x)))
        return encoder.maxpool(x)

    def extract_feat(self, inputs: Dict[str, torch.Tensor]
                     ) -> Dict[str, torch.Tensor]:
        """Run both encoders stage by stage with MMTM blocks in between,
        then pool each branch to (B, D_m) as its encoder would."""
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'inputs lack modalities {missing}; '
                           f'got {sorted(inputs)}')
        maps, frames = {}, {}
        for m in self.modalities:
            enc = self.encoders[m]
            images, frames[m] = self._to_images(enc, inputs[m])
            maps[m] = self._stem(enc, images)
        for name in self.stage_names:
            maps = {m: getattr(self.encoders[m], name)(x)
                    for m, x in maps.items()}
            if name in self.mmtm:
                maps = self.mmtm[name](maps, frames)
        return {m: MMTMBlock.squeeze_map(x, frames[m])
                for m, x in maps.items()}

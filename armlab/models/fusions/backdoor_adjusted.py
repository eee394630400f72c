"""CIDer's fusion: a residual joint representation and a backdoor-adjusted
head (MACI, part 1).

CIDer (configs/cider/README.md) treats the class-specific content of the
data as a confounder of what the model learns. The head sees, beside the
sample's joint representation r, an encoding of one class prototype at a
time, and mixes the per-prototype predictions with the prototypes' prior:

* h = [g_1; ...; g_M], r = h + W_b drop(ReLU(W_a h)) (both d_h -> d_h);
* z_c = [z_c^1; ...; z_c^M] the class-c prototype of the raw features, f_m an
  MLP (D_m -> d -> d -> d) shared across classes;
* u_c = [r; f_1(z_c^1); ...; f_M(z_c^M)], p_c = softmax(W_c u_c + b_c) with
  one linear layer per prototype c;
* log P(y | x) = log sum_c pi_c p_c(y): in training pi = the training class
  frequencies and z_c the training class prototypes; in evaluation
  pi_c = 1 / C and every z_c = the training mean (the prior-weighted mean of
  the prototypes), so no label of the evaluated split is read.

The output is log P, used as logits: its cross-entropy is the NLL of P and
its softmax is P. ``adjust=False`` replaces the adjusted head by one linear
layer on r (the ablation). The prototypes are buffers that
:class:`~armlab.engine.class_prototype_hook.ClassPrototypeHook` fills from
the training split before training (and a checkpoint restores).
"""
from typing import Dict, List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion


def prototype_encoder(in_channels: int, width: int) -> nn.Sequential:
    """f_m: Linear(D_m, d), ReLU, Linear(d, d), ReLU, Linear(d, d)."""
    return nn.Sequential(nn.Linear(in_channels, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width))


@MODELS.register_module()
class BackdoorAdjustedFusion(BaseFusion):
    """Residual joint representation, then the backdoor-adjusted head.

    Args:
        prototype_channels: Modality -> D_m, the raw feature size of its
            prototypes (required when ``adjust``).
        adjust: The backdoor adjustment (True) or a linear head on r.
        prototype_width: d of the prototype encoders (CIDer: 32).
        out_dropout: Dropout inside the residual block (CIDer: 0.3).
        **kwargs: :class:`BaseFusion` arguments.
    """

    def __init__(self, *args,
                 prototype_channels: Optional[Dict[str, int]] = None,
                 adjust: bool = True, prototype_width: int = 32,
                 out_dropout: float = 0.3, **kwargs):
        super().__init__(*args, **kwargs)
        joint = sum(self.in_channels.values())
        self.adjust = adjust
        self.res_a = nn.Linear(joint, joint)
        self.res_b = nn.Linear(joint, joint)
        self.dropout = nn.Dropout(out_dropout)
        k = self.num_classes
        if not adjust:
            self.head = nn.Linear(joint, k)
            return
        missing = [m for m in self.modalities
                   if m not in (prototype_channels or {})]
        if missing:
            raise ValueError(
                'BackdoorAdjustedFusion(adjust=True) needs prototype_channels '
                f'for every modality (the raw feature sizes); missing '
                f'{missing}')
        self.prototype_channels = {m: int(prototype_channels[m])
                                   for m in self.modalities}
        self.encoders = nn.ModuleDict({
            m: prototype_encoder(d, prototype_width)
            for m, d in self.prototype_channels.items()})
        width = joint + prototype_width * len(self.modalities)
        bound = 1 / width ** 0.5  # nn.Linear's default initialisation
        self.class_weight = nn.Parameter(
            torch.empty(k, k, width).uniform_(-bound, bound))
        self.class_bias = nn.Parameter(torch.empty(k, k).uniform_(-bound,
                                                                  bound))
        for m, d in self.prototype_channels.items():
            self.register_buffer(f'prototypes_{m}', torch.zeros(k, d))
        self.register_buffer('class_prior', torch.full((k, ), 1.0 / k))
        self.register_buffer('prototypes_ready', torch.tensor(False))

    # -- prototypes -----------------------------------------------------------
    def set_prototypes(self, prototypes: Dict[str, torch.Tensor],
                       prior: torch.Tensor) -> None:
        """Store the (C, D_m) class prototypes and the (C,) class prior."""
        for m in self.modalities:
            buf = getattr(self, f'prototypes_{m}')
            if tuple(prototypes[m].shape) != tuple(buf.shape):
                raise ValueError(
                    f'BackdoorAdjustedFusion: prototypes of {m!r} must be '
                    f'{tuple(buf.shape)} (classes x prototype_channels), '
                    f'got {tuple(prototypes[m].shape)}')
            buf.copy_(prototypes[m])
        self.class_prior.copy_(prior / prior.sum())
        self.prototypes_ready.fill_(True)

    def strata(self) -> Dict[str, torch.Tensor]:
        """The prototypes the head reads now: the class prototypes in
        training, the prior-weighted mean for every class in evaluation."""
        out = {}
        for m in self.modalities:
            z = getattr(self, f'prototypes_{m}')
            if not self.training:
                z = (self.class_prior[:, None] * z).sum(0).expand_as(z)
            out[m] = z
        return out

    # -- forward --------------------------------------------------------------
    def represent(self, xs: List[torch.Tensor]) -> torch.Tensor:
        """r = h + W_b drop(ReLU(W_a h)), h the concatenated features."""
        h = torch.cat(xs, 1)
        return h + self.res_b(self.dropout(torch.relu(self.res_a(h))))

    def head_logits(self, r: torch.Tensor) -> torch.Tensor:
        """log P(y | x) from the representation (B, d_h) -> (B, K)."""
        if not self.adjust:
            return self.head(r)
        if not bool(self.prototypes_ready):
            raise RuntimeError(
                'BackdoorAdjustedFusion has no class prototypes yet: add '
                "dict(type='ClassPrototypeHook') to custom_hooks (it fills "
                'them from the training split before training), or load a '
                'checkpoint of a run that had it')
        strata = self.strata()
        encoded = torch.cat([self.encoders[m](strata[m].to(r.dtype))
                             for m in self.modalities], 1)  # (C, W_z)
        k = self.num_classes
        u = torch.cat([r[:, None].expand(-1, k, -1),
                       encoded[None].expand(r.shape[0], -1, -1)], 2)
        logits = torch.einsum('bcw,cyw->bcy', u, self.class_weight) + \
            self.class_bias[None]
        prior = self.class_prior if self.training else \
            torch.full_like(self.class_prior, 1.0 / k)
        mixed = (prior[None, :, None].to(r.dtype) * logits.softmax(2)).sum(1)
        return mixed.clamp_min(torch.finfo(mixed.dtype).tiny).log()

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return self.head_logits(self.represent(xs))

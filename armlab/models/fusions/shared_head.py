"""Late fusion through one linear head shared by every modality.

MLA (Zhang et al., CVPR 2024) and AMST's 'msum' fusion (Silva et al., ECML
PKDD 2025) train a single classifier H(h) = W h + b on each modality's
features in turn, so the features of all modalities live in one space and
H(h_m) *is* modality m's prediction.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from .base import BaseFusion

COMBINE_RULES = ('sum', 'mean', 'entropy', 'entropy_batch', 'fixed')


def prediction_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of softmax(logits) along the last dim (nats)."""
    return -(F.softmax(logits, -1) * F.log_softmax(logits, -1)).sum(-1)


def batch_axis_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(M,) entropies of (B, M, K) logits, each modality's softmax taken
    over the *batch* axis and the entropy summed over the batch and the
    classes: MLA's released test-time rule, one number per modality and
    batch, so a sample's weight depends on its batch-mates."""
    p = F.softmax(logits, dim=0)
    return -(p * F.log_softmax(logits, dim=0)).sum((0, 2))


@MODELS.register_module()
class SharedHeadFusion(BaseFusion):
    """One linear head H shared by all modalities (equal feature sizes).

    Combination rules (``combine``):

    * ``'sum'`` (training, default): z = W (sum_m alpha_m h_m) + b. An absent
      modality takes the fill, so with the zero fill a single present
      modality gives exactly its unimodal logits H(h_m). Decomposition:
      z_m = W alpha_m h_m + b / M, summing to z; masked logits use the
      additive fast path.
    * ``'mean'`` (AMST's evaluation of its shared head): z = (1/M) sum_m
      H(alpha_m h_m), the mean of the unimodal logits. Its argmax is that
      of W (sum_m h_m) + M b, where 'sum' adds the bias once.
    * ``'entropy'`` (MLA's test-time rule as the paper writes it): z =
      sum_m w_m H(alpha_m h_m) with per-sample w = softmax_m(-Entropy(
      softmax(H(alpha_m h_m)))): the more confident modality counts more.
      Label-free.
    * ``'entropy_batch'`` (MLA's released code): the same with one weight
      per modality and batch, from :func:`batch_axis_entropy` (softmax over
      the batch axis), so predictions depend on the batch they are in.
    * ``'fixed'``: the same with constant weights ``fixed_weights``
      (renormalised over the modalities combined).

    With every rule but 'sum' only the *present* modalities are combined
    (their weights renormalise to 1), so a single present modality still
    gives H(h_m) whatever the fill; a sample with no modality present
    combines the fills of all. Decomposition: z_m = w_m H(alpha_m h_m).

    Args:
        combine: One of ``COMBINE_RULES``; see :meth:`set_combine`.
        fixed_weights: Per-modality weights for 'fixed': a sequence in
            modality order or a dict modality -> weight, all > 0.
        **kwargs: :class:`BaseFusion` arguments (``fill`` ...).
    """

    decomposable = True

    def __init__(self,
                 *args,
                 combine: str = 'sum',
                 fixed_weights: Optional[Union[Sequence[float],
                                               Dict[str, float]]] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        dims = sorted(set(self.in_channels.values()))
        if len(dims) != 1:
            raise ValueError(
                'SharedHeadFusion shares one head across modalities, so '
                'every modality needs the same feature size; got '
                f'in_channels={self.in_channels}. Give the encoders equal '
                'widths or use ConcatFusion / SumFusion.')
        self.fc = nn.Linear(dims[0], self.num_classes)
        self.set_combine(combine, fixed_weights)

    # -- configuration --------------------------------------------------------
    def set_combine(self,
                    combine: str,
                    fixed_weights: Optional[Union[Sequence[float],
                                                  Dict[str, float]]] = None
                    ) -> None:
        """Choose how the fused logits combine the modalities."""
        if combine not in COMBINE_RULES:
            raise ValueError(f'SharedHeadFusion: unknown combine '
                             f'{combine!r}; choose one of {COMBINE_RULES}')
        weights = None
        if combine == 'fixed':
            if fixed_weights is None:
                raise ValueError("SharedHeadFusion combine='fixed' needs "
                                 'fixed_weights (one per modality)')
            if isinstance(fixed_weights, dict):
                missing = [m for m in self.modalities
                           if m not in fixed_weights]
                if missing:
                    raise ValueError(f'SharedHeadFusion fixed_weights lack '
                                     f'modalities {missing}')
                fixed_weights = [fixed_weights[m] for m in self.modalities]
            weights = tuple(float(w) for w in fixed_weights)
            if len(weights) != len(self.modalities) or \
                    min(weights) <= 0:
                raise ValueError(
                    'SharedHeadFusion fixed_weights must be one positive '
                    f'number per modality {self.modalities}, got '
                    f'{fixed_weights}')
        self.combine = combine
        self.fixed_weights = weights

    # -- heads and combination ------------------------------------------------
    def head(self, h: torch.Tensor) -> torch.Tensor:
        """Unimodal logits H(h) = W h + b of one modality's features."""
        return self.fc(h)

    def combination_weights(self, logits: torch.Tensor,
                            present: Optional[torch.Tensor] = None
                            ) -> torch.Tensor:
        """(B, M) weights of the unimodal logits (B, M, K) for every rule
        but 'sum'; absent modalities get 0 unless none is present."""
        if self.combine == 'entropy':
            scores = -prediction_entropy(logits)
        elif self.combine == 'entropy_batch':
            scores = -batch_axis_entropy(logits).expand(logits.shape[:2])
        elif self.combine == 'mean':
            scores = logits.new_zeros(logits.shape[:2])
        elif self.combine == 'fixed':
            scores = logits.new_tensor(self.fixed_weights).log().expand(
                logits.shape[:2])
        else:
            raise RuntimeError("combine='sum' has no combination weights")
        if present is not None:
            present = present.to(device=logits.device, dtype=torch.bool)
            present = present | ~present.any(1, keepdim=True)
            scores = scores.masked_fill(~present, float('-inf'))
        return F.softmax(scores, dim=1)

    def _weighted_logits(self, xs: List[torch.Tensor],
                         present: Optional[torch.Tensor]) -> torch.Tensor:
        """(B, M, K) unimodal logits, each scaled by its weight."""
        logits = torch.stack([self.fc(x) for x in xs], dim=1)
        weights = self.combination_weights(logits, present)
        return weights.unsqueeze(-1) * logits

    def forward(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        xs = self.prepare(feats, weights, present)
        if self.combine == 'sum':
            return self.fuse(xs)
        return self._weighted_logits(xs, present).sum(1)

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        if self.combine == 'sum':
            return self.fc(torch.stack(xs).sum(0))
        return self._weighted_logits(xs, None).sum(1)

    def subset_logits(self, feats, subsets, weights=None):
        if self.combine != 'sum':
            # The weighted rules are not additive: one pass per subset.
            return super().subset_logits(feats, subsets, weights)
        return self._additive_subset_logits(
            feats, subsets, weights, [self.fc.weight] * len(self.modalities),
            self.fc.bias)

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        xs = self.weighted(feats, weights)  # no fill-mean update here
        if self.combine == 'sum':
            bias = self.fc.bias / len(self.modalities)
            return {m: x @ self.fc.weight.t() + bias
                    for m, x in zip(self.modalities, xs)}
        parts = self._weighted_logits(xs, None)
        return {m: parts[:, i] for i, m in enumerate(self.modalities)}


def require_shared_head(model: nn.Module, method: str) -> SharedHeadFusion:
    """The model's SharedHeadFusion, or a TypeError naming the fix."""
    fusion = model.fusion
    if not isinstance(fusion, SharedHeadFusion):
        raise TypeError(
            f'{method} trains one head shared by all modalities and needs '
            f"model.fusion = dict(type='SharedHeadFusion'), got "
            f'{type(fusion).__name__}')
    return fusion

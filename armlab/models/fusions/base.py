"""Base class of every fusion: per-modality weights, absence masks and fills.

Masking lives here, once: a masked forward replaces the features of absent
modalities by the fill before the fusion-specific ``fuse``. Per-modality
accuracy, Shapley values, ARM, AGM, robustness and active learning all reach
it through :meth:`MultimodalClassifier.masked_logits`.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

FILL_TYPES = ('zero', 'mean', 'learned')


class BaseFusion(nn.Module):
    """Fuse per-modality feature vectors into class logits.

    Args:
        modalities: Modality names, in the order used by weights and masks.
        in_channels: Feature size of each modality.
        num_classes: Number of classes K.
        fill: What an absent modality's features become: ``'zero'``,
            ``'mean'`` (running mean of training features) or ``'learned'``
            (a trained token per modality).
        fill_momentum: Momentum of the running mean for ``fill='mean'``.
    """

    #: True when the fused logits are a sum of per-modality terms, so that
    #: per-modality logits can be read off the fusion itself.
    decomposable = False
    #: Number of modalities the fusion supports; None for any.
    num_modalities: Optional[int] = None
    #: True inside :meth:`fill_frozen`: extra passes over the same batch.
    _fill_is_frozen = False

    def __init__(self,
                 modalities: Sequence[str],
                 in_channels: Dict[str, int],
                 num_classes: int,
                 fill: str = 'zero',
                 fill_momentum: float = 0.1):
        super().__init__()
        self.modalities = tuple(modalities)
        missing = [m for m in self.modalities if m not in in_channels]
        if missing:
            raise ValueError(f'{type(self).__name__}: no in_channels for '
                             f'modalities {missing}')
        if self.num_modalities is not None and \
                len(self.modalities) != self.num_modalities:
            raise ValueError(
                f'{type(self).__name__} fuses exactly {self.num_modalities} '
                f'modalities, got {len(self.modalities)}: {self.modalities}. '
                'Use ConcatFusion or SumFusion for other counts.')
        if fill not in FILL_TYPES:
            raise ValueError(f'unknown fill {fill!r}; choose one of '
                             f'{FILL_TYPES}')
        self.in_channels = {m: int(in_channels[m]) for m in self.modalities}
        self.num_classes = num_classes
        self.fill = fill
        self.fill_momentum = fill_momentum
        if fill == 'learned':
            self.fill_tokens = nn.ParameterDict({
                m: nn.Parameter(torch.zeros(c))
                for m, c in self.in_channels.items()
            })
        elif fill == 'mean':
            for m, c in self.in_channels.items():
                self.register_buffer(f'fill_mean_{m}', torch.zeros(c))

    # -- fill -------------------------------------------------------------
    def fill_value(self, modality: str, like: torch.Tensor) -> torch.Tensor:
        """The features an absent ``modality`` is replaced with."""
        if self.fill == 'learned':
            return self.fill_tokens[modality].to(like.dtype).expand_as(like)
        if self.fill == 'mean':
            mean = getattr(self, f'fill_mean_{modality}')
            return mean.to(like.dtype).expand_as(like)
        return torch.zeros_like(like)

    @torch.no_grad()
    def _update_fill_mean(self, feats: Dict[str, torch.Tensor],
                          present: Optional[torch.Tensor] = None) -> None:
        """Blend in the batch mean of each modality over the rows where it
        is present (modality dropout, skipped modalities)."""
        for i, m in enumerate(self.modalities):
            h = feats[m].detach().float()
            if present is not None:
                h = h[present[:, i].to(h.device)]
                if h.shape[0] == 0:
                    continue
            mean = getattr(self, f'fill_mean_{m}')
            mean.lerp_(h.mean(0), self.fill_momentum)

    @contextmanager
    def fill_frozen(self) -> Iterator[None]:
        """Passes inside do not update the running fill mean: one update
        per training step, from the fused forward, whatever extra masked
        passes a metric, balancer or loss makes over the same batch."""
        previous, self._fill_is_frozen = self._fill_is_frozen, True
        try:
            yield
        finally:
            self._fill_is_frozen = previous

    # -- forward ----------------------------------------------------------
    def weighted(self, feats: Dict[str, torch.Tensor],
                 weights: Optional[torch.Tensor] = None
                 ) -> List[torch.Tensor]:
        """Features in modality order, each scaled by its weight."""
        out = []
        for i, m in enumerate(self.modalities):
            if m not in feats:
                raise KeyError(f'{type(self).__name__}: no features for '
                               f'modality {m!r} (got {sorted(feats)})')
            h = feats[m]
            out.append(h if weights is None else h * weights[i].to(h.dtype))
        return out

    def prepare(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        """Weighted features in modality order, absent ones filled.

        Args:
            feats: Modality -> (B, D_m) features.
            weights: (M,) feature weights, applied to present features.
            present: (B, M) bool, False where a modality is absent.
        """
        if self.fill == 'mean' and self.training and \
                not self._fill_is_frozen:
            self._update_fill_mean(feats, present)
        xs = self.weighted(feats, weights)
        if present is None:
            return xs
        out = []
        for i, (m, h) in enumerate(zip(self.modalities, xs)):
            keep = present[:, i].to(h.device).view(-1, 1)
            out.append(torch.where(keep, h, self.fill_value(m, h)))
        return out

    def forward(self,
                feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Fused logits (B, K)."""
        return self.fuse(self.prepare(feats, weights, present))

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def subset_logits(self, feats: Dict[str, torch.Tensor],
                      subsets: Sequence[Tuple[str, ...]],
                      weights: Optional[torch.Tensor] = None
                      ) -> Dict[Tuple[str, ...], torch.Tensor]:
        """Logits of the whole batch with only each subset present.

        One full fusion pass per subset; additive fusions override this
        with a pass per modality (the valuation's hot path).
        """
        batch = next(iter(feats.values()))
        out = {}
        with self.fill_frozen():
            for subset in subsets:
                row = torch.tensor([m in subset for m in self.modalities],
                                   device=batch.device)
                out[subset] = self(feats, weights,
                                   row.expand(batch.shape[0], -1))
        return out

    def _additive_subset_logits(self, feats, subsets, weights,
                                matrices: List[torch.Tensor],
                                bias: torch.Tensor
                                ) -> Dict[Tuple[str, ...], torch.Tensor]:
        """z_S = bias + sum_{m in S} alpha_m W_m h_m + sum_{m not in S}
        W_m fill_m, for fusions whose logits are a sum over modalities.

        One (B, D_m) x (D_m, K) product per modality, whatever the number of
        subsets; the weights scale the (B, K) products, not the features.
        """
        hs = [feats[m] for m in self.modalities]
        present = [h @ w.t() for h, w in zip(hs, matrices)]
        if weights is not None:
            present = [z * weights[i].to(z.dtype)
                       for i, z in enumerate(present)]
        absent = [
            self.fill_value(m, h[:1]) @ w.t()
            for m, h, w in zip(self.modalities, hs, matrices)
        ]
        out = {}
        for subset in subsets:
            z = bias
            for i, m in enumerate(self.modalities):
                z = z + (present[i] if m in subset else absent[i])
            out[subset] = z.expand(hs[0].shape[0], -1)
        return out

    def extra_losses(self, feats: Dict[str, torch.Tensor],
                     labels: torch.Tensor,
                     weights: Optional[torch.Tensor] = None,
                     present: Optional[torch.Tensor] = None
                     ) -> Dict[str, torch.Tensor]:
        """Loss terms the fusion itself needs beyond the classifier's loss
        on the fused logits (e.g. an evidential fusion's per-modality
        Dirichlet losses). Keys must contain ``loss``. None by default."""
        return {}

    def decompose(self, feats: Dict[str, torch.Tensor],
                  weights: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        """Per-modality logits whose sum is the fused logits.

        Only defined where ``decomposable`` is True.
        """
        raise NotImplementedError(
            f'{type(self).__name__} is not decomposable; use masked or '
            'auxiliary-head per-modality logits')

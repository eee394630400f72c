"""Evidential late fusion (TMC / ETMC, Han et al., ICLR 2021).

Each modality forms a subjective opinion over the K classes from the
evidence of its own linear head: a Dirichlet with α^m = e^m + 1, belief
b^m = e^m / S^m and uncertainty u^m = K / S^m (so Σ_k b^m_k + u^m = 1).
The opinions are merged with the reduced Dempster–Shafer rule, folded
pairwise in modality order; Dempster's rule is associative, so the order
changes nothing but rounding. An absent modality's opinion is vacuous
(b = 0, u = 1), the identity of the rule, so masked forwards (per-modality
accuracy, Shapley values, BMMAL shares) read the opinion of the present
modalities only.

The fused "logits" are log α: softmax gives the Dirichlet mean α / S, so
every metric and prediction path of armlab works unchanged.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from armlab.utils.runtime import current_epoch
from .base import BaseFusion

EVIDENCE_FUNCTIONS = ('softplus', 'relu', 'exp')
LOSS_FORMS = ('digamma', 'mse')
PSEUDO_VIEW = 'pseudo'

Opinion = Tuple[torch.Tensor, torch.Tensor]  # belief (N, K), uncertainty (N,)


# -- opinions and their combination ---------------------------------------------
def opinion_from_alpha(alpha: torch.Tensor) -> Opinion:
    """Belief e / S and uncertainty K / S of a Dirichlet α (N, K)."""
    strength = alpha.sum(dim=1)
    return (alpha - 1) / strength[:, None], alpha.shape[1] / strength


def alpha_from_opinion(belief: torch.Tensor,
                       uncertainty: torch.Tensor) -> torch.Tensor:
    """Back to a Dirichlet: S = K / u, e = b S, α = e + 1."""
    strength = belief.shape[1] / uncertainty
    return belief * strength[:, None] + 1


def combine_opinions(first: Opinion, second: Opinion
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reduced Dempster–Shafer combination of two opinions.

    C = Σ_{i≠j} b¹_i b²_j, b = (b¹b² + b¹u² + b²u¹) / (1 − C) and
    u = u¹u² / (1 − C). 1 − C is expanded as Σ_k b¹_k b²_k + u²Σb¹ + u¹Σb² +
    u¹u² (both opinions sum to one), a sum of non-negative terms: no
    cancellation when the opinions nearly contradict each other.

    Returns:
        tuple: belief (N, K), uncertainty (N,), conflict C (N,).
    """
    b1, u1 = first
    b2, u2 = second
    agree = (b1 * b2).sum(dim=1)
    sum1, sum2 = b1.sum(dim=1), b2.sum(dim=1)
    conflict = sum1 * sum2 - agree
    kept = agree + u2 * sum1 + u1 * sum2 + u1 * u2  # = 1 - C
    belief = (b1 * b2 + b1 * u2[:, None] + b2 * u1[:, None]) / kept[:, None]
    return belief, u1 * u2 / kept, conflict.clamp(min=0)


def fold_opinions(opinions: Sequence[Opinion]
                  ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Combine M >= 1 opinions pairwise, in order.

    The conflict of the fold is 1 − Π_i (1 − C_i): the mass that the
    unnormalised (conjunctive) combination of all M opinions puts on the
    empty set. It equals C for M = 2, lies in [0, 1) and, like the fused
    opinion, does not depend on the order.
    """
    belief, uncertainty = opinions[0]
    kept = torch.ones_like(uncertainty)
    for other in opinions[1:]:
        belief, uncertainty, conflict = combine_opinions(
            (belief, uncertainty), other)
        kept = kept * (1 - conflict)
    return belief, uncertainty, 1 - kept


# -- the TMC loss ----------------------------------------------------------------
def annealing_weight(epoch: int, annealing_epochs: int) -> float:
    """λ_t = min(1, epoch / T): the KL term fades in over T epochs."""
    if annealing_epochs <= 0:
        return 1.0
    return min(1.0, epoch / annealing_epochs)


def dirichlet_kl_to_uniform(alpha: torch.Tensor) -> torch.Tensor:
    """KL(Dir(α) ‖ Dir(1)) per row, (N,)."""
    strength = alpha.sum(dim=1)
    num_classes = alpha.new_tensor(float(alpha.shape[1]))
    return (torch.lgamma(strength) - torch.lgamma(num_classes) -
            torch.lgamma(alpha).sum(dim=1) +
            ((alpha - 1) * (torch.digamma(alpha) -
                            torch.digamma(strength)[:, None])).sum(dim=1))


def evidential_loss(alpha: torch.Tensor, labels: torch.Tensor,
                    kl_weight: float,
                    loss_form: str = 'digamma') -> torch.Tensor:
    """Per-sample TMC loss of a Dirichlet α (N, K) for ``labels`` (N,).

    ``'digamma'``: Σ_k y_k (ψ(S) − ψ(α_k)), the expected cross-entropy under
    Dir(α); ``'mse'``: Σ_k (y_k − p_k)² + p_k(1 − p_k)/(S + 1) with p = α/S
    (Sensoy et al., 2018). Both add λ_t KL(Dir(α̃) ‖ Dir(1)), where
    α̃ = y + (1 − y) α keeps only the evidence for wrong classes.
    """
    if loss_form not in LOSS_FORMS:
        raise ValueError(f'unknown loss_form {loss_form!r}; choose one of '
                         f'{LOSS_FORMS}')
    onehot = F.one_hot(labels, alpha.shape[1]).to(alpha.dtype)
    strength = alpha.sum(dim=1, keepdim=True)
    if loss_form == 'digamma':
        fit = (onehot * (torch.digamma(strength) -
                         torch.digamma(alpha))).sum(dim=1)
    else:
        p = alpha / strength
        fit = ((onehot - p)**2 + p * (1 - p) / (strength + 1)).sum(dim=1)
    alpha_tilde = onehot + (1 - onehot) * alpha
    return fit + kl_weight * dirichlet_kl_to_uniform(alpha_tilde)


# -- the fusion ------------------------------------------------------------------
@MODELS.register_module()
class EvidentialFusion(BaseFusion):
    """Trusted multi-view fusion of per-modality Dirichlet opinions.

    Args:
        evidence: Non-negative map from head outputs to evidence:
            ``'softplus'`` (default), ``'relu'`` or ``'exp'`` (inputs clamped
            to [-10, 10]).
        pseudo_view: ETMC: one more opinion from a head on the concatenated
            (filled) features, folded in last; vacuous only when no modality
            is present.
        annealing_epochs: T of λ_t = min(1, epoch / T), epoch 0-based.
        loss_form: ``'digamma'`` or ``'mse'`` (see :func:`evidential_loss`).
        loss_weight: Scale of every evidential loss term.
        *args, **kwargs: :class:`BaseFusion`'s (modalities, in_channels,
            num_classes, fill).
    """

    decomposable = False

    def __init__(self, *args,
                 evidence: str = 'softplus',
                 pseudo_view: bool = False,
                 annealing_epochs: int = 4,
                 loss_form: str = 'digamma',
                 loss_weight: float = 1.0,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if evidence not in EVIDENCE_FUNCTIONS:
            raise ValueError(f'EvidentialFusion: unknown evidence '
                             f'{evidence!r}; choose one of '
                             f'{EVIDENCE_FUNCTIONS}')
        if loss_form not in LOSS_FORMS:
            raise ValueError(f'EvidentialFusion: unknown loss_form '
                             f'{loss_form!r}; choose one of {LOSS_FORMS}')
        if PSEUDO_VIEW in self.modalities:
            raise ValueError(f'EvidentialFusion: modality name '
                             f'{PSEUDO_VIEW!r} is reserved for the pseudo view')
        self.evidence = evidence
        self.annealing_epochs = annealing_epochs
        self.loss_form = loss_form
        self.loss_weight = loss_weight
        self.heads = nn.ModuleDict({
            m: nn.Linear(c, self.num_classes)
            for m, c in self.in_channels.items()
        })
        self.pseudo_head = nn.Linear(sum(self.in_channels.values()),
                                     self.num_classes) if pseudo_view else None

    def to_evidence(self, z: torch.Tensor) -> torch.Tensor:
        if self.evidence == 'softplus':
            return F.softplus(z)
        if self.evidence == 'relu':
            return F.relu(z)
        return torch.exp(z.clamp(-10, 10))

    def _views(self, xs: List[torch.Tensor],
               present: Optional[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """View name -> Dirichlet α (N, K) from prepared features; absent
        views get α = 1."""
        alphas = {}
        for i, (m, x) in enumerate(zip(self.modalities, xs)):
            evidence = self.to_evidence(self.heads[m](x))
            if present is not None:
                keep = present[:, i].to(x.device).view(-1, 1)
                evidence = torch.where(keep, evidence,
                                       torch.zeros_like(evidence))
            alphas[m] = evidence + 1
        if self.pseudo_head is not None:
            evidence = self.to_evidence(self.pseudo_head(torch.cat(xs, 1)))
            if present is not None:
                keep = present.any(dim=1).to(evidence.device).view(-1, 1)
                evidence = torch.where(keep, evidence,
                                       torch.zeros_like(evidence))
            alphas[PSEUDO_VIEW] = evidence + 1
        return alphas

    def opinions(self, feats: Dict[str, torch.Tensor],
                 weights: Optional[torch.Tensor] = None,
                 present: Optional[torch.Tensor] = None
                 ) -> Dict[str, torch.Tensor]:
        """Every view's opinion and the fused one.

        Args:
            feats: Modality -> (N, D_m) features.
            weights: (M,) feature weights.
            present: (N, M) bool; absent modalities give vacuous opinions.

        Returns:
            dict: ``belief`` (N, K), ``uncertainty`` (N,), ``conflict`` (N,)
            (see :func:`fold_opinions`) and ``alpha`` (N, K) of the fused
            opinion; ``<v>_belief``, ``<v>_uncertainty``, ``<v>_alpha`` for
            every modality v (and ``pseudo`` with ``pseudo_view``).
        """
        return self._opinions(self.prepare(feats, weights, present), present)

    def _opinions(self, xs: List[torch.Tensor],
                  present: Optional[torch.Tensor] = None
                  ) -> Dict[str, torch.Tensor]:
        alphas = self._views(xs, present)
        out = {}
        views = []
        for name, alpha in alphas.items():
            belief, uncertainty = opinion_from_alpha(alpha)
            views.append((belief, uncertainty))
            out.update({f'{name}_belief': belief,
                        f'{name}_uncertainty': uncertainty,
                        f'{name}_alpha': alpha})
        belief, uncertainty, conflict = fold_opinions(views)
        out.update(belief=belief, uncertainty=uncertainty, conflict=conflict,
                   alpha=alpha_from_opinion(belief, uncertainty))
        return out

    def forward(self, feats: Dict[str, torch.Tensor],
                weights: Optional[torch.Tensor] = None,
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        """log α of the fused opinion: softmax gives α / S."""
        return self.opinions(feats, weights, present)['alpha'].log()

    def fuse(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return self._opinions(xs)['alpha'].log()

    def extra_losses(self, feats: Dict[str, torch.Tensor],
                     labels: torch.Tensor,
                     weights: Optional[torch.Tensor] = None,
                     present: Optional[torch.Tensor] = None
                     ) -> Dict[str, torch.Tensor]:
        """TMC loss on every view's α (over the samples where the view is
        present) and on the fused α, one ``loss_evidential_<v>`` each."""
        if present is None:
            present = torch.ones(labels.shape[0], len(self.modalities),
                                 dtype=torch.bool, device=labels.device)
        with self.fill_frozen():  # the fused forward made this step's update
            opinions = self.opinions(feats, weights, present)
        kl_weight = annealing_weight(current_epoch(), self.annealing_epochs)
        views = dict(zip(self.modalities, present.t()))
        if self.pseudo_head is not None:
            views[PSEUDO_VIEW] = present.any(dim=1)
        losses = {}
        for name, keep in views.items():
            per_sample = evidential_loss(opinions[f'{name}_alpha'], labels,
                                         kl_weight, self.loss_form)
            keep = keep.to(per_sample.dtype)
            losses[f'loss_evidential_{name}'] = self.loss_weight * (
                per_sample * keep).sum() / keep.sum().clamp(min=1)
        fused = evidential_loss(opinions['alpha'], labels, kl_weight,
                                self.loss_form)
        losses['loss_evidential_fused'] = self.loss_weight * fused.mean()
        return losses

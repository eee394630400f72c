"""BMMAL: BADGE with the dominant modality's gradient blocks kept and the
weaker ones shrunk (Shen et al., ACM MM 2023; docs/active_learning.md).

Per pool item, the fused head is run on zero-masked (fill) features of
every modality subset S, giving p_S. For two modalities the per-class
Shapley deltas are

    Δ_a = ½[(p_av - p_v) + (p_a - p_∅)],   Δ_v = ½[(p_av - p_a) + (p_v - p_∅)],

the shares c_m = |Δ_m| / Σ_m' |Δ_m'| are read at ŷ, the strong modality is
the one with the larger share (a tie goes to the *later* modality of the
config, as in the reference), and the scales are s_strong = 1,
s_weak = 1 - (c_strong - c_weak). The gradient blocks s_m (p_av - onehot ŷ)
⊗ h_m are interleaved per class and seeded with k-means++ as in BADGE.

For M > 2 (armlab's extension): Δ_m is the exact Shapley value of the game
v(S) = p_S (``armlab.evaluation.valuation.shapley_values``; for M = 2 it is
the formula above), and every modality m is scaled by
1 - (c_strong - c_m), so the strongest keeps 1.
"""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from armlab.evaluation.valuation import shapley_values
from armlab.registry import ACQUISITION_STRATEGIES
from .badge import gradient_embedding, kmeanspp_seeding
from .base import AcquisitionContext, AcquisitionStrategy, Subset


def bmmal_shares(subset_probs: Dict[Subset, torch.Tensor],
                 predictions: torch.Tensor,
                 modalities: Sequence[str]
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-sample contribution shares c_m at ŷ and BMMAL's scales s_m.

    Args:
        subset_probs: Every modality subset (tuples in model order, ``()``
            included) -> (N, K) probabilities of the masked fused head.
        predictions: (N,) ŷ, the fused prediction.
        modalities: The modalities in model (config) order.

    Returns:
        tuple: ``shares`` (N, M), rows summing to 1 (1/M each where every
        Δ_m(ŷ) is 0), and ``scales`` (N, M) in [0, 1], columns in
        ``modalities`` order.
    """
    modalities = tuple(modalities)
    if not subset_probs:
        raise ValueError('BMMAL needs the masked heads of every modality '
                         'subset (PoolOutputs.subset_probs), which the '
                         'loop caches for M <= 4 modalities only')
    phi = shapley_values({s: p.double() for s, p in subset_probs.items()},
                         modalities)
    at_pred = predictions.long().view(-1, 1)
    deltas = torch.stack([phi[m].gather(1, at_pred).squeeze(1).abs()
                          for m in modalities], dim=1)
    total = deltas.sum(dim=1, keepdim=True)
    shares = torch.where(total > 0, deltas / total.clamp_min(1e-300),
                         torch.full_like(deltas, 1.0 / len(modalities)))
    strong = dominant_modality(shares)
    c_strong = shares.gather(1, strong.view(-1, 1))
    scales = 1.0 - (c_strong - shares)
    return shares, scales


def dominant_modality(shares: torch.Tensor) -> torch.Tensor:
    """(N,) column of the largest share; ties go to the later column."""
    flipped = torch.flip(shares, dims=[1]).argmax(dim=1)
    return shares.shape[1] - 1 - flipped


@ACQUISITION_STRATEGIES.register_module(name=['bmmal', 'BMMALSampling'])
class BMMALSampling(AcquisitionStrategy):
    """k-means++ seeding on modality-scaled gradient embeddings."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        pool = ctx.pool
        _, scales = bmmal_shares(pool.subset_probs, pool.predictions,
                                 pool.modalities)
        emb = gradient_embedding(pool.probs, pool.feats, scales)
        return np.asarray(ctx.unlabelled)[kmeanspp_seeding(emb, budget,
                                                           ctx.rng)]

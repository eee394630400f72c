"""Uncertainty sampling on the fused probabilities p (docs/active_learning.md).

Entropy takes the top-b of H(p); margin the bottom-b of p_(1) - p_(2);
least confidence the bottom-b of p_(1). Ties go to the earlier pool item.
"""
import numpy as np
import torch

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy, top_k


def entropy_scores(probs: torch.Tensor) -> torch.Tensor:
    """H(p) = -Σ_k p_k log p_k per row, in nats (0 log 0 = 0)."""
    return torch.special.entr(probs.double()).sum(dim=-1)


def margin_scores(probs: torch.Tensor) -> torch.Tensor:
    """p_(1) - p_(2): small when the two best classes are close."""
    top2 = probs.double().topk(2, dim=1).values
    return top2[:, 0] - top2[:, 1]


@ACQUISITION_STRATEGIES.register_module(name=['entropy', 'EntropySampling'])
class EntropySampling(AcquisitionStrategy):
    """Top-b of the fused predictive entropy."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        return top_k(ctx, entropy_scores(ctx.pool.probs), budget)


@ACQUISITION_STRATEGIES.register_module(name=['margin', 'MarginSampling'])
class MarginSampling(AcquisitionStrategy):
    """Bottom-b of the top-two probability margin."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        return top_k(ctx, margin_scores(ctx.pool.probs), budget,
                     largest=False)


@ACQUISITION_STRATEGIES.register_module(
    name=['least_confidence', 'LeastConfidenceSampling'])
class LeastConfidenceSampling(AcquisitionStrategy):
    """Bottom-b of the top probability p_(1)."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        return top_k(ctx, ctx.pool.probs.double().max(dim=1).values, budget,
                     largest=False)

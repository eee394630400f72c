"""BALD: mutual information between the prediction and the model.

Score = H(mean_t p_t) - mean_t H(p_t) over T MC-dropout passes (Houlsby et
al. 2011; Gal et al. 2017): high where the passes disagree, not merely
where each pass is unsure.
"""
import numpy as np
import torch

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy, top_k
from .uncertainty import entropy_scores


def bald_scores(mc_probs: torch.Tensor) -> torch.Tensor:
    """(T, N, K) MC probabilities -> (N,) BALD scores (nats)."""
    if mc_probs.dim() != 3:
        raise ValueError('bald_scores expects (passes, N, K) probabilities, '
                         f'got shape {tuple(mc_probs.shape)}')
    mc_probs = mc_probs.double()
    return entropy_scores(mc_probs.mean(dim=0)) - \
        entropy_scores(mc_probs).mean(dim=0)


@ACQUISITION_STRATEGIES.register_module(name=['bald', 'BALDSampling'])
class BALDSampling(AcquisitionStrategy):
    """Top-b of the BALD score.

    Args:
        passes: T, the number of MC-dropout passes (10 as in BMMAL).
    """

    def __init__(self, passes: int = 10):
        if passes < 2:
            raise ValueError(f'BALD needs at least 2 MC passes, got {passes}')
        self.passes = passes

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        if ctx.mc_probs is None:
            raise ValueError('BALD needs ctx.mc_probs (MC-dropout passes)')
        return top_k(ctx, bald_scores(ctx.mc_probs(self.passes)), budget)

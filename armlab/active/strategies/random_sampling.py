"""Random sampling: the baseline every strategy must beat."""
import numpy as np

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy


@ACQUISITION_STRATEGIES.register_module(name=['random', 'RandomSampling'])
class RandomSampling(AcquisitionStrategy):
    """``budget`` pool items uniformly without replacement (``ctx.rng``)."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        return np.sort(ctx.rng.choice(np.asarray(ctx.unlabelled), budget,
                                      replace=False))

"""Core-set selection by k-center greedy (Sener & Savarese, ICLR 2018).

Repeatedly add the pool item farthest (Euclidean, on z_mm = [h_a; h_v]) from
its nearest labelled-or-selected item: a 2-approximation of the k-center
cover, so the labelled set ends up spread over the pool's feature space.
"""
import numpy as np
import torch

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy

#: Rows per block of the pairwise distances (bounds the memory).
_CHUNK = 4096


def nearest_distances(points: torch.Tensor,
                      centers: torch.Tensor) -> torch.Tensor:
    """(N,) distance from each point to its nearest center (+inf if none)."""
    points = points.double()
    if len(centers) == 0:
        return torch.full((len(points), ), float('inf'), dtype=torch.float64)
    centers = centers.double()
    out = torch.empty(len(points), dtype=torch.float64)
    for start in range(0, len(points), _CHUNK):
        block = torch.cdist(points[start:start + _CHUNK], centers)
        out[start:start + _CHUNK] = block.min(dim=1).values
    return out


def kcenter_greedy(pool_emb: torch.Tensor, labelled_emb: torch.Tensor,
                   budget: int) -> np.ndarray:
    """Positions (in ``pool_emb``) of ``budget`` k-center greedy picks.

    Args:
        pool_emb: (N, D) embeddings of the pool.
        labelled_emb: (L, D) embeddings of the labelled set (L may be 0;
            the first pick is then pool item 0, as every distance is +inf).
        budget: Number of picks, at most N.

    Returns:
        np.ndarray: int64 positions in pick order. Ties go to the earlier
        item; a picked item is never picked again, duplicates included.
    """
    pool_emb = torch.as_tensor(pool_emb).double()
    if budget > len(pool_emb):
        raise ValueError(f'k-center greedy: budget {budget} exceeds the pool '
                         f'of {len(pool_emb)} items')
    dist = nearest_distances(pool_emb, torch.as_tensor(labelled_emb))
    picks = []
    for _ in range(budget):
        pick = int(torch.argmax(dist))
        picks.append(pick)
        dist = torch.minimum(
            dist, torch.cdist(pool_emb, pool_emb[pick:pick + 1]).squeeze(1))
        dist[picks] = -float('inf')
    return np.asarray(picks, dtype=np.int64)


@ACQUISITION_STRATEGIES.register_module(name=['coreset', 'CoreSetSampling'])
class CoreSetSampling(AcquisitionStrategy):
    """k-center greedy on the fused embedding z_mm."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        if ctx.labelled_outputs is None:
            raise ValueError('core-set needs ctx.labelled_outputs (the '
                             'labelled set\'s embeddings)')
        picks = kcenter_greedy(ctx.pool.embedding,
                               ctx.labelled_outputs.embedding, budget)
        return np.asarray(ctx.unlabelled)[picks]

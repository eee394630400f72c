"""k-means sampling: one representative per cluster of the pool.

k-means with k = b on z_mm (Lloyd's iterations from k-means++ seeds), then
the pool item nearest each centroid. Purely representative: it ignores the
model's uncertainty, which makes it the diversity-only reference.
"""
import numpy as np
import torch

from armlab.registry import ACQUISITION_STRATEGIES
from .badge import kmeanspp_seeding
from .base import AcquisitionContext, AcquisitionStrategy


def kmeans_representatives(emb: torch.Tensor, budget: int,
                           rng: np.random.Generator,
                           iterations: int = 20) -> np.ndarray:
    """Positions of the items nearest each of ``budget`` k-means centroids.

    Two centroids never share an item: each centroid, in order, takes its
    nearest item not taken yet, so exactly ``budget`` distinct positions
    come back.
    """
    emb = torch.as_tensor(emb).double()
    centers = emb[torch.as_tensor(kmeanspp_seeding(emb, budget, rng))]
    for _ in range(iterations):
        assign = torch.cdist(emb, centers).argmin(dim=1)
        moved = centers.clone()
        for k in range(budget):
            members = emb[assign == k]
            if len(members):
                moved[k] = members.mean(dim=0)
        if torch.allclose(moved, centers):
            break
        centers = moved
    dist = torch.cdist(centers, emb)
    taken = np.zeros(len(emb), dtype=bool)
    picks = []
    for k in range(budget):
        order = torch.argsort(dist[k], stable=True).numpy()
        pick = int(order[~taken[order]][0])
        taken[pick] = True
        picks.append(pick)
    return np.asarray(picks, dtype=np.int64)


@ACQUISITION_STRATEGIES.register_module(name=['kmeans', 'KMeansSampling'])
class KMeansSampling(AcquisitionStrategy):
    """The pool items nearest the centroids of a k-means with k = b.

    Args:
        iterations: Lloyd iterations at most.
    """

    def __init__(self, iterations: int = 20):
        self.iterations = iterations

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        picks = kmeans_representatives(ctx.pool.embedding, budget, ctx.rng,
                                       self.iterations)
        return np.asarray(ctx.unlabelled)[picks]

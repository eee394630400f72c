"""BADGE: diverse, uncertain batches from gradient embeddings (Ash et al.,
ICLR 2020).

g(x) = (p - onehot(ŷ)) ⊗ z_mm is the gradient of the cross-entropy at the
predicted label with respect to a linear head on z_mm: its norm measures
uncertainty, its direction what the sample would teach. k-means++ seeding
on g picks items that are both large and far apart.
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy
from .coreset import nearest_distances


def gradient_embedding(probs: torch.Tensor, feats: Dict[str, torch.Tensor],
                       scales: Optional[torch.Tensor] = None
                       ) -> torch.Tensor:
    """(N, K·ΣD_m) gradient embeddings, interleaved per class.

    Row layout: for each class k, the blocks s_m (p_k - [ŷ = k]) h_m of
    every modality in ``feats`` order. With ``scales`` None (all ones) this
    is BADGE's (p - onehot(ŷ)) ⊗ z_mm; BMMAL passes its per-modality scales.

    Args:
        probs: (N, K) fused probabilities (ŷ = argmax).
        feats: Modality -> (N, D_m) features, in model order.
        scales: (N, M) per-sample modality scales, columns in ``feats``
            order.
    """
    probs = probs.float()
    residual = probs - F.one_hot(probs.argmax(1), probs.shape[1]).float()
    blocks = []
    for i, h in enumerate(feats.values()):
        h = h.float()
        if scales is not None:
            h = h * scales[:, i:i + 1].float()
        blocks.append(h)
    z = torch.cat(blocks, dim=1)
    return (residual[:, :, None] * z[:, None, :]).flatten(1)


def kmeanspp_seeding(emb: torch.Tensor, budget: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Positions of ``budget`` k-means++ seeds of ``emb`` (N, D).

    The first seed is the row of largest norm (ties: the earlier row); each
    further seed is drawn with probability D(x)² / Σ D², D the distance to
    the nearest chosen seed. Chosen rows have D = 0 and are never drawn
    again; if every remaining D is 0 (duplicates), the draw is uniform over
    the rows not chosen yet.
    """
    emb = torch.as_tensor(emb).double()
    num = len(emb)
    if budget > num:
        raise ValueError(f'k-means++: budget {budget} exceeds the {num} '
                         'items')
    if budget <= 0:
        return np.zeros(0, dtype=np.int64)
    chosen = [int(torch.argmax(emb.norm(dim=1)))]
    dist = nearest_distances(emb, emb[chosen])
    while len(chosen) < budget:
        weights = dist.numpy() ** 2
        weights[chosen] = 0.0
        total = weights.sum()
        if total > 0 and np.isfinite(total):
            pick = int(rng.choice(num, p=weights / total))
        else:
            free = np.setdiff1d(np.arange(num), chosen)
            pick = int(rng.choice(free))
        chosen.append(pick)
        dist = torch.minimum(dist, nearest_distances(emb, emb[pick:pick + 1]))
    return np.asarray(chosen, dtype=np.int64)


@ACQUISITION_STRATEGIES.register_module(name=['badge', 'BADGESampling'])
class BADGESampling(AcquisitionStrategy):
    """k-means++ seeding on the gradient embeddings of the pool."""

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        emb = gradient_embedding(ctx.pool.probs, ctx.pool.feats)
        return np.asarray(ctx.unlabelled)[kmeanspp_seeding(emb, budget,
                                                           ctx.rng)]

"""The contract between the active-learning loop and its strategies.

The loop runs the round's model once over the pool and hands every strategy
the same cached outputs (``PoolOutputs``), so a strategy costs at most one
encoder pass per round and strategies stay comparable. A strategy returns
dataset indices; the loop checks them (exact budget, unique, unlabelled).
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch

Subset = Tuple[str, ...]


@dataclass
class PoolOutputs:
    """One pass of a model over a set of samples (pool or labelled set).

    Attributes:
        indices: Dataset indices, (N,), int64; row i of every tensor below.
        probs: Fused class probabilities, (N, K).
        feats: Modality -> features h_m, (N, D_m), detached, on CPU.
        subset_probs: Modality subset (tuple in model order; () = none
            present) -> class probabilities of the fused head with only that
            subset present (``model.masked_logits``), (N, K). Every subset
            for M <= 4 modalities.
        evidential: Where the fusion forms opinions (``EvidentialFusion``):
            its ``opinions(feats, weights=model.modality_weights)`` output,
            e.g. ``belief`` (N, K), ``uncertainty`` (N,), ``conflict``
            (N,); only tensor values with a batch dimension are kept. None
            otherwise.
    """
    indices: np.ndarray
    probs: torch.Tensor
    feats: Dict[str, torch.Tensor]
    subset_probs: Dict[Subset, torch.Tensor] = field(default_factory=dict)
    evidential: Optional[Dict[str, torch.Tensor]] = None

    @property
    def modalities(self) -> Tuple[str, ...]:
        return tuple(self.feats)

    @property
    def embedding(self) -> torch.Tensor:
        """z_mm: the modalities' features concatenated in model order."""
        return torch.cat([self.feats[m] for m in self.modalities], dim=1)

    @property
    def predictions(self) -> torch.Tensor:
        """Fused predicted class, (N,)."""
        return self.probs.argmax(dim=1)


@dataclass
class AcquisitionContext:
    """What a strategy may read when it selects a batch.

    Attributes:
        model: The round's model (eval mode), trained on ``labelled``.
        round: Index of the round whose model queries (0 = round-0 model).
        num_rounds: Total number of acquisition rounds of the run.
        labelled: Dataset indices already labelled.
        unlabelled: Dataset indices of the pool, in the order of ``pool``.
        pool: Cached outputs of the model on ``unlabelled``.
        labelled_outputs: Cached outputs on ``labelled`` (diversity, core-set).
        val_metrics: The round's validation metrics; never test metrics.
            Canonical keys (``armlab.active.records.summarize_metrics``):
            ``top1``, ``f1``, ``acc_<m>`` (masked), ``share_<m>`` (Shapley
            share of accuracy, %) and ``gap`` (max - min share); the
            metric's own names (``accuracy/top1``, ``acc_<m>_mask``, ...)
            are there too.
        rng: Seeded from (run seed, round): the only randomness to use.
        mc_probs: ``mc_probs(passes)`` -> (passes, N, K) pool probabilities
            under MC dropout (BALD), computed on demand from the cached
            features (``armlab.active.pool_outputs.mc_dropout_probs``).
        extra: Free-form per-round data for strategies that need more. The
            loop fills ``seed`` (run seed), ``budgets`` (per-round list),
            ``labelled_labels`` (gt labels of ``labelled``, same order; the
            pool's labels are never given), ``history`` (the summary rows
            of the finished rounds) and ``work_dir``.
    """
    model: torch.nn.Module
    round: int
    num_rounds: int
    labelled: np.ndarray
    unlabelled: np.ndarray
    pool: PoolOutputs
    labelled_outputs: Optional[PoolOutputs] = None
    val_metrics: Dict[str, float] = field(default_factory=dict)
    rng: np.random.Generator = field(
        default_factory=lambda: np.random.default_rng(0))
    mc_probs: Optional[Callable[[int], torch.Tensor]] = None
    extra: Dict[str, Any] = field(default_factory=dict)


class AcquisitionStrategy:
    """Base class: pick ``budget`` pool items to label next.

    Subclasses implement :meth:`select`. A strategy that learns across rounds
    (the RL policy) also implements :meth:`observe`, called once the next
    round's model has been evaluated, and keeps its state in
    :meth:`state_dict` so that an interrupted run resumes it.
    """

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        """Dataset indices (a subset of ``ctx.unlabelled``), exactly
        ``budget`` of them, no repeats, deterministic given ``ctx.rng``."""
        raise NotImplementedError

    def observe(self, ctx: AcquisitionContext,
                metrics: Dict[str, float]) -> None:
        """Feedback after training on the selection (default: none).

        The loop calls it in every round t >= 1, once f_t (trained on the
        previous selection) is evaluated: ``ctx`` is round t's context (its
        pool outputs, ``ctx.round = t``) and ``metrics`` its validation
        metrics (``ctx.val_metrics``). It comes before :meth:`select` of
        that round, and also after the last round, where no selection
        follows."""

    def state_dict(self) -> Dict[str, Any]:
        return {}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        if state:
            raise ValueError(f'{type(self).__name__} keeps no state; got '
                             f'keys {sorted(state)}')


# -- helpers shared by strategies (and the loop) -----------------------------
def top_k(ctx: AcquisitionContext, scores, budget: int,
          largest: bool = True) -> np.ndarray:
    """Dataset indices of the ``budget`` pool items with the largest (or
    smallest) score. Ties go to the earlier pool item (stable sort), so
    equal scores never make a selection depend on the platform."""
    scores = np.asarray(torch.as_tensor(scores).detach().cpu().double())
    if scores.shape != (len(ctx.unlabelled), ):
        raise ValueError(f'scores must have shape ({len(ctx.unlabelled)},) '
                         f'(one per pool item), got {scores.shape}')
    if np.isnan(scores).any():
        raise ValueError(f'{int(np.isnan(scores).sum())} pool scores are NaN')
    order = np.argsort(-scores if largest else scores, kind='stable')
    return np.asarray(ctx.unlabelled)[order[:budget]]


def check_selection(selected, ctx: AcquisitionContext, budget: int,
                    who: str = 'strategy') -> np.ndarray:
    """The selection as int64 indices, or a clear error: exactly ``budget``
    of them, no repeats, all in the pool (none already labelled)."""
    selected = np.asarray(selected).astype(np.int64).reshape(-1)
    if len(selected) != budget:
        raise ValueError(f'{who} returned {len(selected)} indices for a '
                         f'budget of {budget}')
    if len(np.unique(selected)) != len(selected):
        raise ValueError(f'{who} returned repeated indices')
    labelled = np.intersect1d(selected, ctx.labelled)
    if len(labelled):
        raise ValueError(f'{who} selected already labelled samples '
                         f'{labelled[:5].tolist()}')
    outside = np.setdiff1d(selected, ctx.unlabelled)
    if len(outside):
        raise ValueError(f'{who} selected indices outside the pool '
                         f'{outside[:5].tolist()}')
    return selected

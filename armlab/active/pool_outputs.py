"""The round model's outputs on the training split, in one pass.

Every strategy reads the same cache (``PoolOutputs``): fused probabilities,
per-modality features, every modality subset's probabilities (the masked
heads, for BMMAL and contribution statistics) and, where the fusion forms
opinions, its evidential outputs. The pass goes through
``TrainingSetValuation`` (the train split read with the test pipeline, eval
mode), so the pool is seen exactly as the metrics see data.
"""
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.evaluation.valuation import MAX_PLAYERS
from .strategies.base import PoolOutputs

#: Feature-dropout rate of MC dropout when the fusion has no dropout layer.
FEATURE_DROPOUT = 0.5


def _rows(model) -> Callable:
    """The row function of the pass: one dict of tensors per sample."""
    subsets = model.all_subsets() if len(model.modalities) <= MAX_PLAYERS \
        else []
    opinions = getattr(model.fusion, 'opinions', None)

    def fn(feats, labels, data_samples) -> List[dict]:
        probs = _cpu(F.softmax(model.fuse(feats).float(), dim=1))
        subset_probs = {s: _cpu(F.softmax(z.float(), dim=1)) for s, z in
                        model.masked_logits(feats, subsets).items()} \
            if subsets else {}
        evidential = opinions(feats, weights=model.modality_weights.clone()) \
            if callable(opinions) else None
        if evidential is not None:
            evidential = {k: _cpu(v) for k, v in evidential.items()
                          if torch.is_tensor(v) and v.dim() >= 1}
        feats = {m: _cpu(f) for m, f in feats.items()}
        rows = []
        for i in range(len(labels)):
            row = dict(probs=probs[i], feats={m: f[i]
                                              for m, f in feats.items()},
                       subset_probs={s: p[i]
                                     for s, p in subset_probs.items()})
            if evidential is not None:
                row['evidential'] = {k: v[i] for k, v in evidential.items()}
            rows.append(row)
        return rows

    return fn


def _cpu(x: torch.Tensor) -> torch.Tensor:
    return x.detach().float().cpu()


def _stack(rows: Sequence[dict], indices: np.ndarray) -> PoolOutputs:
    if not rows:
        raise ValueError('no samples to stack into pool outputs')
    first = rows[0]
    evidential = None
    if 'evidential' in first:
        evidential = {k: torch.stack([r['evidential'][k] for r in rows])
                      for k in first['evidential']}
    return PoolOutputs(
        indices=np.asarray(indices, dtype=np.int64),
        probs=torch.stack([r['probs'] for r in rows]),
        feats={m: torch.stack([r['feats'][m] for r in rows])
               for m in first['feats']},
        subset_probs={s: torch.stack([r['subset_probs'][s] for r in rows])
                      for s in first['subset_probs']},
        evidential=evidential)


def collect_outputs(model, valuation: TrainingSetValuation,
                    groups: Dict[str, np.ndarray]) -> Dict[str, PoolOutputs]:
    """One pass over the union of ``groups`` (e.g. pool and labelled set),
    split back into one ``PoolOutputs`` per group, rows in group order."""
    wanted = np.unique(np.concatenate(
        [np.asarray(g, dtype=np.int64) for g in groups.values()]))
    by_index = dict(valuation.run(model, _rows(model), indices=wanted))
    missing = [int(i) for i in wanted if int(i) not in by_index]
    if missing:
        raise RuntimeError(f'the pool pass returned no row for samples '
                           f'{missing[:5]}')
    return {name: _stack([by_index[int(i)] for i in idx], idx)
            for name, idx in groups.items() if len(idx)}


def _dropout_layers(module: nn.Module) -> List[nn.Module]:
    return [m for m in module.modules()
            if isinstance(m, nn.modules.dropout._DropoutNd)]


@torch.no_grad()
def mc_dropout_probs(model, feats: Dict[str, torch.Tensor], passes: int,
                     seed: int, p: float = FEATURE_DROPOUT) -> torch.Tensor:
    """(passes, N, K) fused probabilities under MC dropout.

    The dropout acts after the encoders, on the cached features, so BALD
    costs no extra encoder pass (the one-pass rule of docs/active_learning.md):

    * if the fusion has dropout layers, only they run in train mode (the
      rest, e.g. a running fill mean, stays in eval mode);
    * otherwise each pass drops every feature of every h_m with
      probability ``p`` (inverted dropout, scale 1/(1-p)) before fusing.
      ResNet encoders have no dropout, so this is the usual case.

    Dropout inside the encoders is not sampled. Draws come from a generator
    seeded by ``seed``: the same call gives the same samples.
    """
    if passes < 1:
        raise ValueError(f'MC dropout needs passes >= 1, got {passes}')
    if not 0 <= p < 1:
        raise ValueError(f'feature dropout rate must lie in [0, 1), got {p}')
    layers = _dropout_layers(model.fusion)
    device = next(model.parameters()).device
    feats = {m: h.to(device) for m, h in feats.items()}
    gen = torch.Generator().manual_seed(int(seed))
    out = []
    was_training = model.training
    model.eval()
    try:
        for _ in range(passes):
            if layers:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(torch.randint(
                        2**31 - 1, (1, ), generator=gen)))
                    for layer in layers:
                        layer.train()
                    logits = model.fuse(feats)
                    for layer in layers:
                        layer.eval()
            else:
                dropped = {}
                for m, h in feats.items():
                    keep = torch.bernoulli(torch.full(h.shape, 1 - p),
                                           generator=gen).to(device)
                    dropped[m] = h * keep / (1 - p)
                logits = model.fuse(dropped)
            out.append(_cpu(F.softmax(logits.float(), dim=1)))
    finally:
        model.train(was_training)
    return torch.stack(out)


def mc_probs_fn(model, pool: PoolOutputs, seed: int
                ) -> Callable[[int], torch.Tensor]:
    """``mc_probs(passes)`` for the context, memoised per ``passes``."""
    cache: Dict[int, torch.Tensor] = {}

    def mc_probs(passes: int) -> torch.Tensor:
        if passes not in cache:
            cache[passes] = mc_dropout_probs(model, pool.feats, passes, seed)
        return cache[passes]

    return mc_probs


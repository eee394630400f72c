"""Seeded, class-stratified splits that anyone can reproduce.

Every preparation tool splits through these functions so that the armlab
split rule (docs/protocols.md) holds everywhere: keep a dataset's official test
list when it has one, carve a class-stratified validation set out of train
(model selection never looks at test), and optionally keep groups (speakers,
actors, source videos) on one side of every cut.

The result depends only on ``labels`` (their order included), ``groups`` and
``seed``: callers sort their samples canonically (by sample id) first, so two
users with the same raw files get the same split files.
"""
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = ['allocate_counts', 'stratified_split', 'carve_validation',
           'check_disjoint']


def allocate_counts(total: int, fractions: Mapping[str, float],
                    min_count: int = 1) -> Dict[str, int]:
    """Split sizes that sum to ``total``, by largest remainder.

    Why: rounding each fraction on its own can lose or add a sample; the
    largest-remainder rule hits ``total`` exactly and is deterministic (ties
    go to the split named first).

    Args:
        total: Number of items to share.
        fractions: Split name -> fraction (normalised if they do not sum
            to 1), in the order the items are handed out.
        min_count: Each split with a positive fraction gets at least this
            many items when ``total`` allows it (taken from the largest).

    Returns:
        Split name -> count, in the order of ``fractions``.
    """
    names = list(fractions)
    weights = np.array([float(fractions[n]) for n in names])
    if not names or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f'split fractions must be >= 0 with a positive '
                         f'sum, got {dict(fractions)}')
    quotas = total * weights / weights.sum()
    counts = np.floor(quotas).astype(int)
    order = sorted(range(len(names)), key=lambda i: (-(quotas[i] - counts[i]),
                                                     i))
    for i in order[:total - int(counts.sum())]:
        counts[i] += 1
    wanted = [i for i in range(len(names)) if weights[i] > 0]
    if total >= min_count * len(wanted):
        for i in wanted:
            while counts[i] < min_count:
                donor = int(np.argmax(counts))
                counts[donor] -= 1
                counts[i] += 1
    return {n: int(c) for n, c in zip(names, counts)}


def _sorted_unique(values: Sequence[Hashable]) -> list:
    """Distinct values in a fixed order, whatever their type."""
    return sorted(set(values), key=lambda v: (type(v).__name__, str(v)))


def _class_order(labels: Sequence[Hashable],
                 rng: np.random.Generator) -> np.ndarray:
    """A permutation of all items that interleaves the classes evenly.

    Each class is shuffled and its members get the positions (i + 0.5) / n_c
    in [0, 1); sorting every item by its position (random tie-break) and
    cutting the order at the split sizes gives each split about its fraction
    of every class (within one item), with exact split sizes overall.
    """
    labels = list(labels)
    position = np.empty(len(labels))
    for label in _sorted_unique(labels):
        members = np.array([i for i, v in enumerate(labels) if v == label])
        shuffled = members[rng.permutation(len(members))]
        position[shuffled] = (np.arange(len(members)) + 0.5) / len(members)
    tie_break = rng.permutation(len(labels))
    return np.lexsort((tie_break, position))


def _group_split(groups: Sequence[Hashable], counts: Dict[str, int],
                 rng: np.random.Generator) -> Dict[str, List[int]]:
    """Whole groups to splits, greedily towards the wanted sizes.

    Groups are visited in a seeded random order and each goes to the split
    furthest below its wanted size (relative deficit), so every split gets a
    group when there are enough groups.
    """
    groups = list(groups)
    names = list(counts)
    members: Dict[Hashable, List[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    keys = _sorted_unique(groups)
    if len(keys) < sum(1 for n in names if counts[n] > 0):
        raise ValueError(f'{len(keys)} group(s) cannot fill the '
                         f'{len(names)} splits {names} group-disjointly')
    out: Dict[str, List[int]] = {n: [] for n in names}
    for k in rng.permutation(len(keys)):
        group = members[keys[int(k)]]
        deficit = [(counts[n] - len(out[n])) / max(counts[n], 1)
                   if counts[n] > 0 else -np.inf for n in names]
        out[names[int(np.argmax(deficit))]].extend(group)
    return {n: sorted(v) for n, v in out.items()}


def stratified_split(labels: Sequence[Hashable],
                     fractions: Mapping[str, float],
                     seed: int = 0,
                     groups: Optional[Sequence[Hashable]] = None
                     ) -> Dict[str, List[int]]:
    """Seeded class-stratified split of items into named parts.

    Args:
        labels: One label per item (any hashable: class names or indices).
        fractions: Split name -> fraction, e.g. ``{'train': 0.8, 'val': 0.1,
            'test': 0.1}``. Sizes are exact (:func:`allocate_counts`) and each
            split gets at least one item when there are enough items.
        seed: Seed of the one ``numpy`` generator of the split.
        groups: Optional group per item (speaker, actor, source video).
            When given, every group lands in exactly one split
            (group-disjoint); sizes are then approximate and the class
            balance follows from the groups (exact stratification and whole
            groups cannot both be had).

    Returns:
        Split name -> sorted item indices; the parts are disjoint and cover
        all items.
    """
    n = len(labels)
    if groups is not None and len(groups) != n:
        raise ValueError(f'groups has {len(groups)} entries for {n} labels')
    counts = allocate_counts(n, fractions)
    rng = np.random.default_rng(seed)
    if groups is not None:
        return _group_split(groups, counts, rng)
    order = _class_order(labels, rng)
    out, start = {}, 0
    for name, count in counts.items():
        out[name] = sorted(int(i) for i in order[start:start + count])
        start += count
    return out


def carve_validation(labels: Sequence[Hashable],
                     train_indices: Sequence[int],
                     size: Optional[int] = None,
                     fraction: Optional[float] = None,
                     seed: int = 0,
                     groups: Optional[Sequence[Hashable]] = None
                     ) -> Tuple[List[int], List[int]]:
    """Carve a class-stratified validation set out of a training set.

    Why: the armlab protocol selects checkpoints on validation only, and
    most audio-visual benchmarks ship only train and test lists. CREMA-D's
    6,698 training clips give 5,954 / 744 with ``size=744``.

    Args:
        labels: Labels of *all* items (indexed by ``train_indices``).
        train_indices: The official training items.
        size: Validation size (exact without ``groups``); or
        fraction: Validation fraction of ``train_indices``.
        seed: Split seed.
        groups: Optional group of every item (indexed like ``labels``):
            validation and the remaining train then share no group.

    Returns:
        ``(train, val)``: sorted indices into ``labels``, disjoint, covering
        ``train_indices``.
    """
    train_indices = [int(i) for i in train_indices]
    if (size is None) == (fraction is None):
        raise ValueError('carve_validation needs exactly one of size and '
                         f'fraction (got size={size}, fraction={fraction})')
    total = len(train_indices)
    if size is None:
        if not 0 < float(fraction) < 1:
            raise ValueError(f'validation fraction must be in (0, 1), got '
                             f'{fraction}')
        size = allocate_counts(total, {'train': 1 - float(fraction),
                                       'val': float(fraction)})['val']
    if not 0 < int(size) < total:
        raise ValueError(f'cannot carve {size} validation items out of '
                         f'{total} training items')
    parts = stratified_split(
        [labels[i] for i in train_indices],
        {'train': total - int(size), 'val': int(size)}, seed=seed,
        groups=None if groups is None else [groups[i]
                                            for i in train_indices])
    return ([train_indices[i] for i in parts['train']],
            [train_indices[i] for i in parts['val']])


def check_disjoint(splits: Mapping[str, Sequence[Hashable]]) -> None:
    """Raise ``ValueError`` naming the first items two splits share."""
    names = list(splits)
    for a_pos, a in enumerate(names):
        seen = set(splits[a])
        for b in names[a_pos + 1:]:
            shared = seen.intersection(splits[b])
            if shared:
                example = sorted(map(str, shared))[:5]
                raise ValueError(f'splits {a!r} and {b!r} share '
                                 f'{len(shared)} item(s), e.g. {example}')

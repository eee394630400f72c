"""Exact Shapley values of a modality game given all 2^M subset values."""
from itertools import combinations
from math import factorial
from typing import Any, Dict, FrozenSet, Mapping, Sequence, Tuple

#: The largest number of modalities: each subset value costs one masked
#: forward, so the exact game needs 2^M of them.
MAX_PLAYERS = 4


def _lookup(values: Mapping[Tuple[str, ...], Any],
            modalities: Tuple[str, ...]) -> Dict[FrozenSet[str], Any]:
    """Subset values keyed by frozenset; complain about gaps and strangers."""
    by_set: Dict[FrozenSet[str], Any] = {}
    for key, v in values.items():
        key = (key, ) if isinstance(key, str) else tuple(key)
        unknown = [m for m in key if m not in modalities]
        if unknown:
            raise ValueError(f'subset {key} names modalities {unknown} '
                             f'outside {modalities}')
        by_set[frozenset(key)] = v
    for r in range(len(modalities) + 1):
        for subset in combinations(modalities, r):
            if frozenset(subset) not in by_set:
                raise ValueError(f'the value of subset {subset} is missing; '
                                 'the exact Shapley value needs all '
                                 f'{2**len(modalities)} subsets, the empty '
                                 'one included')
    return by_set


def shapley_values(values: Mapping[Tuple[str, ...], Any],
                   modalities: Sequence[str]) -> Dict[str, Any]:
    """Exact Shapley value of each modality.

    φ_m = Σ_{S ⊆ N∖{m}} |S|! (M - |S| - 1)! / M! · (v(S ∪ {m}) - v(S)).

    The values may be tensors of any (common) shape, e.g. (B,) per sample or
    (B, K) per class, or plain floats; the result has the same type. The
    efficiency axiom Σ_m φ_m = v(N) - v(∅) holds exactly up to rounding.

    Args:
        values: Subset (tuple of modality names, model order; ``()`` for the
            empty subset) -> value. Every subset must be present.
        modalities: The players, in model order (M <= 4).

    Returns:
        dict: modality -> Shapley value.
    """
    modalities = tuple(modalities)
    num = len(modalities)
    if num == 0:
        raise ValueError('shapley_values needs at least one modality')
    if len(set(modalities)) != num:
        raise ValueError(f'duplicate modalities in {modalities}')
    if num > MAX_PLAYERS:
        raise ValueError(f'exact Shapley values support M <= {MAX_PLAYERS} '
                         f'modalities, got M = {num} ({modalities}): the '
                         f'game needs 2^M = {2**num} masked passes')
    v = _lookup(values, modalities)
    phi = {}
    for m in modalities:
        others = [o for o in modalities if o != m]
        total = 0
        for r in range(num):
            weight = factorial(r) * factorial(num - r - 1) / factorial(num)
            for subset in combinations(others, r):
                s = frozenset(subset)
                total = total + weight * (v[s | {m}] - v[s])
        phi[m] = total
    return phi

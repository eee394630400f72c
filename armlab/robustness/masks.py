"""Missing-modality masks as pure functions (the protocols are described
in docs/robustness.md, "Missing-modality protocols").

Every mask is a function of (seed, sample id, protocol, rate, modality) and
nothing else: the generator of one draw is built from those numbers
(counter-based seeding), never from a global stream. So every model, batch
size, worker count and evaluation order sees exactly the same missing units,
and a sweep can be re-run point by point.

Conventions: a mask is a bool array with True where a unit is **missing**; a
*unit* is the smallest thing a protocol drops (a spectrogram column, a video
frame, a token); rates are probabilities in [0, 1].
"""
import zlib
from itertools import combinations
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

#: Protocol names and the code that enters the seed of their draws. Per-
#: modality RMFM rates get their own code: with equal rates it has RMFM's
#: distribution, with different draws (as in CIDer's ``RMFM_same``).
PROTOCOL_CODES = {'RMM': 1, 'RMFM': 2, 'RMFM_per_modality': 3, 'TMFM': 4,
                  'STMFM': 5, 'SMM': 6}
PROTOCOLS = ('RMM', 'RMFM', 'TMFM', 'STMFM', 'SMM')
#: The "modality" of masks shared by every modality (TMFM, STMFM).
SHARED = 'shared'
#: Rate key of the training-time draw (rate=None), outside round(r * 1e6).
_NO_RATE = 2**32 - 1
#: Redraws of RMM with ``min_present`` before keeping one modality at random.
_MAX_REDRAWS = 100

Rate = Optional[float]


def stable_code(text: str) -> int:
    """CRC-32 of a string: the same number in every process and Python
    version (``hash`` is salted per process)."""
    return zlib.crc32(str(text).encode('utf-8'))


def rate_code(rate: Rate) -> int:
    """round(rate * 1e6), or a sentinel for the training draw."""
    if rate is None:
        return _NO_RATE
    check_rate(rate)
    return int(round(float(rate) * 1e6))


def check_rate(rate: Rate, what: str = 'rate') -> None:
    if rate is None:
        return
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f'{what} must be in [0, 1], got {rate}')


def mask_rng(seed: int, sample_id: str, protocol: str, rate: Rate,
             modality: str) -> np.random.Generator:
    """The generator of one (sample, protocol, rate, modality) draw.

    ``np.random.default_rng([seed, crc32(sample_id), protocol code,
    round(rate * 1e6), crc32(modality)])``. The modality enters by name, so a
    modality's mask does not depend on the model's modality order or on which
    other modalities it has.
    """
    if protocol not in PROTOCOL_CODES:
        raise ValueError(f'unknown protocol {protocol!r}; choose one of '
                         f'{sorted(PROTOCOL_CODES)}')
    if seed is None or int(seed) < 0:
        raise ValueError(f'mask seed must be a non-negative int, got {seed!r}')
    return np.random.default_rng([
        int(seed), stable_code(sample_id), PROTOCOL_CODES[protocol],
        rate_code(rate), stable_code(modality)
    ])


def bernoulli_units(rng: np.random.Generator, num_units: int, rate: Rate,
                    valid: Optional[np.ndarray] = None) -> np.ndarray:
    """Each valid unit missing independently with probability ``rate``.

    ``rate=None`` is CIDer's training draw: per unit, u, r ~ U(0, 1) and the
    unit is kept when u > r, i.e. i.i.d. Bernoulli(1/2) whatever the test
    rate. Invalid (padding) units are never missing.
    """
    if rate is None:
        missing = rng.random(num_units) <= rng.random(num_units)
    else:
        check_rate(rate)
        missing = rng.random(num_units) < float(rate)
    if valid is not None:
        missing &= np.asarray(valid, bool)
    return missing


def rmm_mask(rng_for: Callable[[str], np.random.Generator], modalities: Sequence[str], rate: Rate,
             min_present: int = 0) -> Dict[str, bool]:
    """RMM: each modality missing independently with probability ``rate``.

    Args:
        rng_for: modality -> its generator (:func:`mask_rng` with protocol
            ``'RMM'``), so a modality's first draw depends on it alone.
        modalities: Modalities of the sample.
        rate: Missing probability, or None for the training draw.
        min_present: 0 is CIDer's behaviour (all may go); k >= 1 redraws
            until at least k modalities stay. When that is (nearly)
            impossible (rate 1), after 100 redraws k modalities chosen
            uniformly at random are kept, from the first modality's stream.

    Returns:
        modality -> True when missing.
    """
    if not 0 <= min_present <= len(modalities):
        raise ValueError(f'min_present must be in [0, {len(modalities)}], '
                         f'got {min_present}')
    rngs = {m: rng_for(m) for m in modalities}

    def draw() -> Dict[str, bool]:
        return {m: bool(bernoulli_units(rngs[m], 1, rate)[0])
                for m in modalities}

    missing = draw()
    for _ in range(_MAX_REDRAWS):
        if len(modalities) - sum(missing.values()) >= min_present:
            return missing
        missing = draw()
    if len(modalities) - sum(missing.values()) < min_present:
        keep = rngs[modalities[0]].choice(len(modalities), min_present,
                                          replace=False)
        missing = {m: i not in keep for i, m in enumerate(modalities)}
    return missing


def tmfm_steps(rng: np.random.Generator, num_steps: int,
               rate: Rate) -> np.ndarray:
    """TMFM: each time step missing with probability ``rate``, in every
    modality at once (one shared mask)."""
    return bernoulli_units(rng, num_steps, rate)


def stmfm_steps(rng: np.random.Generator, num_steps: int,
                rate: float) -> np.ndarray:
    """STMFM: one contiguous block of ``floor(L * rate + 0.5)`` steps (round
    half up, so rate 0.5 of one step drops it), start uniform in
    {0, ..., L - block}."""
    if rate is None:
        raise ValueError('STMFM needs a rate (its block length)')
    check_rate(rate)
    block = int(np.floor(num_steps * float(rate) + 0.5))
    missing = np.zeros(num_steps, bool)
    if block > 0:
        start = int(rng.integers(0, num_steps - block + 1))
        missing[start:start + block] = True
    return missing


def step_of_units(num_units: int, num_steps: int) -> np.ndarray:
    """The time step of each of ``num_units`` units spread over the clip.

    Both the frames and the spectrogram columns cover the same clip: step t
    (one visual frame interval, a TSN segment) is [t/L, (t+1)/L) of it, and
    unit j of n has its centre at (j + 0.5)/n, so it falls in step
    floor((j + 0.5) L / n). With n = L this is the identity.
    """
    if num_steps < 1 or num_units < 1:
        raise ValueError(f'need at least one step and one unit, got '
                         f'{num_steps} steps and {num_units} units')
    return np.minimum((2 * np.arange(num_units) + 1) * num_steps //
                      (2 * num_units), num_steps - 1)


def units_from_steps(step_missing: np.ndarray, num_units: int) -> np.ndarray:
    """Unit mask of a modality from the shared step mask."""
    step_missing = np.asarray(step_missing, bool)
    return step_missing[step_of_units(num_units, len(step_missing))]


def smm_subsets(modalities: Sequence[str]) -> List[Tuple[str, ...]]:
    """SMM rows: every non-empty subset of present modalities, by size
    then in modality order ({A}, {V}, {A, V} for audio-visual)."""
    if not modalities:
        raise ValueError('SMM needs at least one modality')
    return [c for r in range(1, len(modalities) + 1)
            for c in combinations(tuple(modalities), r)]


def token_valid_units(ids: np.ndarray, pad_id: int = 0,
                      length: Optional[int] = None,
                      special_ids: Optional[Sequence[int]] = None
                      ) -> np.ndarray:
    """Tokens a protocol may drop: the valid (non-padding) ones except the
    special tokens. The valid length is ``length`` (the tokenizer's
    ``<key>_length``) or the count of non-``pad_id`` ids. Special tokens are
    the ids in ``special_ids`` when given (armlab's vocabulary: [CLS] = 2,
    [SEP] = 3), else by position as in CIDer's BERT inputs: [CLS] at 0 and
    [SEP] at the last valid position."""
    ids = np.asarray(ids)
    n = int(length) if length is not None else int(np.sum(ids != pad_id))
    valid = np.zeros(len(ids), bool)
    if special_ids is not None:
        valid[:n] = ~np.isin(ids[:n], list(special_ids))
    else:
        valid[1:max(n - 1, 1)] = True
    return valid


def parse_rates(rate: Union[Rate, Sequence[float], Dict[str, float]],
                modalities: Sequence[str]) -> Dict[str, Rate]:
    """A scalar rate, a per-modality dict, or a sequence in modality order,
    as modality -> rate."""
    if isinstance(rate, dict):
        unknown = set(rate) - set(modalities)
        missing = set(modalities) - set(rate)
        if unknown or missing:
            raise ValueError(f'per-modality rates {rate} must name exactly '
                             f'the modalities {list(modalities)}')
        rates = {m: rate[m] for m in modalities}
    elif isinstance(rate, (list, tuple)):
        if len(rate) != len(modalities):
            raise ValueError(f'{len(rate)} rates {list(rate)} for '
                             f'{len(modalities)} modalities '
                             f'{list(modalities)}')
        rates = dict(zip(modalities, rate))
    else:
        rates = {m: rate for m in modalities}
    for m, r in rates.items():
        check_rate(r, f'rate of {m!r}')
    return rates


"""Statistics of a method comparison: spread over seeds and paired tests.

Everything a results table states about a difference between two methods
comes from here, so the tables and their tests agree on one definition:

- :func:`seed_summary`: mean, *sample* standard deviation (ddof = 1) and a
  two-sided Student-t interval of the mean over seeds;
- :func:`paired_bootstrap`: the accuracy difference of two methods on the
  same test samples, resampling the samples (one seed);
- :func:`hierarchical_bootstrap`: the same over several seeds, resampling
  the seeds and, within each, the test samples (both sources of variation);
- :func:`paired_t_over_seeds`: the paired t-test of the per-seed accuracy
  differences (seed k of one method against seed k of the other).

Accuracies are in percent; correctness vectors are 0/1 per test sample.
"""
import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy import stats


#: Bootstrap resamples drawn at once (memory: chunk x seeds x values).
_CHUNK = 2000


@dataclass(frozen=True)
class SeedSummary:
    """Mean over seeds with the sample std and a ``level`` interval."""
    n: int
    mean: float
    std: Optional[float]  # None with a single seed
    low: Optional[float]
    high: Optional[float]
    level: float = 0.95


def seed_summary(values: Sequence[float], level: float = 0.95
                 ) -> SeedSummary:
    """Mean, sample std (ddof = 1) and the t-interval of the mean."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError('seed_summary needs at least one value')
    mean = float(x.mean())
    if x.size == 1:
        return SeedSummary(1, mean, None, None, None, level)
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * std / \
        math.sqrt(x.size)
    return SeedSummary(int(x.size), mean, std, mean - half, mean + half,
                       level)


@dataclass(frozen=True)
class PairedDifference:
    """Accuracy of A minus accuracy of B (points), its interval and the
    two-sided p-value of 'no difference'."""
    diff: float
    low: float
    high: float
    p_value: float
    level: float = 0.95


def _two_sided_p(samples: np.ndarray) -> float:
    """Bootstrap p-value of H0: difference 0, from the share of resampled
    differences on the far side of 0 (doubled, at most 1); a difference
    that no resample contradicts gets 1 / (B + 1), not 0."""
    b = samples.size
    below = (np.sum(samples <= 0) + 1) / (b + 1)
    above = (np.sum(samples >= 0) + 1) / (b + 1)
    return float(min(1.0, 2 * min(below, above)))


def _resampled_means(d: np.ndarray, num_boot: int, rng: np.random.Generator,
                     resample_seeds: bool) -> np.ndarray:
    """Bootstrap means (in points) of the per-sample differences d (seeds,
    samples): seeds drawn with replacement when ``resample_seeds``, then
    the samples of each drawn seed with replacement.

    Drawing N samples with replacement from a seed's N differences and
    averaging them depends only on how many draws fall on each distinct
    value, which is multinomial with that seed's value frequencies: one
    multinomial draw per (resample, seed) replaces N index draws, with the
    same distribution (differences of correctness take three values).
    """
    num_seeds, num_samples = d.shape
    values, inverse = np.unique(d, return_inverse=True)
    inverse = inverse.reshape(d.shape)
    freq = np.stack([np.bincount(row, minlength=values.size)
                     for row in inverse]) / num_samples
    boots = np.empty(num_boot)
    for start in range(0, num_boot, _CHUNK):  # bounded memory
        n = min(_CHUNK, num_boot - start)
        if resample_seeds:
            seeds = rng.integers(0, num_seeds, size=(n, num_seeds))
        else:
            seeds = np.zeros((n, num_seeds), dtype=np.int64)
        counts = rng.multinomial(num_samples, freq[seeds])
        boots[start:start + n] = 100.0 * (counts @ values).sum(1) / (
            num_seeds * num_samples)
    return boots


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f'paired correctness vectors must be 1-D and of '
                         f'one length, got {a.shape} and {b.shape}')


def paired_bootstrap(correct_a: Sequence[int], correct_b: Sequence[int],
                     num_boot: int = 10000, level: float = 0.95,
                     seed: int = 0) -> PairedDifference:
    """Resample test samples (the same indices for A and B)."""
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    _check_pair(a, b)
    d = a - b
    rng = np.random.default_rng(seed)
    boots = _resampled_means(d[None], num_boot, rng, resample_seeds=False)
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return PairedDifference(100.0 * float(d.mean()), float(lo), float(hi),
                            _two_sided_p(boots), level)


def hierarchical_bootstrap(correct_a: Sequence[Sequence[int]],
                           correct_b: Sequence[Sequence[int]],
                           num_boot: int = 10000, level: float = 0.95,
                           seed: int = 0) -> PairedDifference:
    """Seeds resampled, then test samples within each drawn seed.

    Args:
        correct_a, correct_b: One correctness vector per seed, seed k of A
            paired with seed k of B, all over the same test samples.
    """
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f'expected (seeds, samples) arrays of one shape, '
                         f'got {a.shape} and {b.shape}')
    d = a - b
    rng = np.random.default_rng(seed)
    boots = _resampled_means(d, num_boot, rng, resample_seeds=True)
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return PairedDifference(100.0 * float(d.mean()), float(lo), float(hi),
                            _two_sided_p(boots), level)


def paired_t_over_seeds(acc_a: Sequence[float], acc_b: Sequence[float],
                        level: float = 0.95) -> PairedDifference:
    """Paired t-test of per-seed accuracies (points), two-sided."""
    a = np.asarray(acc_a, dtype=float)
    b = np.asarray(acc_b, dtype=float)
    _check_pair(a, b)
    if a.size < 2:
        raise ValueError('a paired t-test needs at least two seeds')
    d = a - b
    summary = seed_summary(d, level)
    if summary.std == 0:
        p = 1.0 if summary.mean == 0 else 0.0
    else:
        t = summary.mean / (summary.std / math.sqrt(d.size))
        p = float(2 * stats.t.sf(abs(t), d.size - 1))
    return PairedDifference(summary.mean, summary.low, summary.high, p,
                            level)

"""The comparison statistics against values computed by hand."""
import math

import numpy as np
import pytest

from armlab.evaluation.run_records import decode_correct, encode_correct
from armlab.evaluation.statistics import (hierarchical_bootstrap,
                                          paired_bootstrap,
                                          paired_t_over_seeds, seed_summary)


def test_seed_summary_uses_the_sample_std_and_a_t_interval():
    s = seed_summary([1.0, 2.0, 3.0, 4.0])
    # var = (2.25 + 0.25 + 0.25 + 2.25) / 3; t(0.975, 3) = 3.182446.
    assert s.mean == 2.5
    assert s.std == pytest.approx(math.sqrt(5 / 3))
    half = 3.182446 * math.sqrt(5 / 3) / 2
    assert (s.low, s.high) == pytest.approx((2.5 - half, 2.5 + half),
                                            abs=1e-5)
    one = seed_summary([7.0])
    assert one.std is None and one.low is None and one.mean == 7.0


def test_paired_t_over_seeds():
    # Differences 1, 2, 3: mean 2, sd 1, t = 2 sqrt(3), 2 degrees of
    # freedom: p = 1 - t / sqrt(t^2 + 2) (the t(2) tail in closed form).
    r = paired_t_over_seeds([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
    t = 2 * math.sqrt(3)
    assert r.diff == pytest.approx(2.0)
    assert r.p_value == pytest.approx(1 - t / math.sqrt(t * t + 2))
    with pytest.raises(ValueError, match='two seeds'):
        paired_t_over_seeds([1.0], [2.0])


def test_paired_bootstrap_on_cases_with_known_answers():
    # A right everywhere, B nowhere: every resample says +100 points.
    r = paired_bootstrap([1] * 50, [0] * 50, num_boot=999)
    assert (r.diff, r.low, r.high) == (100.0, 100.0, 100.0)
    assert r.p_value == pytest.approx(2 / 1000)
    # Two samples, differences (1, 0): resampled means 0, 50, 100 points
    # with odds 1/4, 1/2, 1/4, so P(diff <= 0) = 1/4 and p = 1/2.
    r = paired_bootstrap([1, 0], [0, 0], num_boot=20000, seed=3)
    assert r.diff == 50.0 and (r.low, r.high) == (0.0, 100.0)
    assert r.p_value == pytest.approx(0.5, abs=0.02)
    # Identical methods: no difference, p = 1.
    same = paired_bootstrap([1, 0, 1, 1], [1, 0, 1, 1], num_boot=500)
    assert same.diff == 0 and same.p_value == 1.0
    with pytest.raises(ValueError, match='one length'):
        paired_bootstrap([1, 0], [1])


def test_hierarchical_bootstrap_pools_seeds_and_samples():
    rng = np.random.default_rng(0)
    a = (rng.random((3, 400)) < 0.8).astype(int)
    b = a.copy()
    b[:, :40] = 1 - b[:, :40]  # B flips the first 40 samples of every seed
    r = hierarchical_bootstrap(a, b, num_boot=2000)
    assert r.diff == pytest.approx(100 * (a - b).mean())
    assert r.low < r.diff < r.high
    # A single seed reduces to the paired bootstrap over samples.
    one = hierarchical_bootstrap(a[:1], b[:1], num_boot=4000, seed=1)
    flat = paired_bootstrap(a[0], b[0], num_boot=4000, seed=2)
    assert one.diff == flat.diff
    assert one.high - one.low == pytest.approx(flat.high - flat.low,
                                               rel=0.15)


def test_the_multinomial_resampling_has_the_bootstrap_spread():
    """Resampling by value counts is the index bootstrap in distribution:
    the interval of a mean over N resampled differences is about +-1.96
    sd(d) / sqrt(N), and resampling seeds too adds the seeds' spread."""
    rng = np.random.default_rng(4)
    a = (rng.random(3000) < 0.85).astype(int)
    b = (rng.random(3000) < 0.80).astype(int)
    d = 100.0 * (a - b)
    r = paired_bootstrap(a, b, num_boot=20000, seed=5)
    half = 1.959964 * d.std() / np.sqrt(d.size)
    assert (r.high - r.low) / 2 == pytest.approx(half, rel=0.05)
    assert (r.high + r.low) / 2 == pytest.approx(d.mean(), abs=0.1 * half)
    # Seeds that disagree widen the hierarchical interval beyond the
    # within-seed one.
    seeds_a = np.stack([a, np.roll(a, 7), (rng.random(3000) < 0.95)])
    seeds_b = np.stack([b, np.roll(b, 7), b])
    wide = hierarchical_bootstrap(seeds_a, seeds_b, num_boot=4000)
    assert wide.high - wide.low > 2 * half


def test_correctness_round_trips_through_its_record_encoding():
    bits = [1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    text = encode_correct(bits)
    assert len(text) == 4  # 11 bits -> 2 bytes -> 4 hex characters
    assert decode_correct(text, 11).tolist() == bits
    with pytest.raises(ValueError, match='0/1'):
        encode_correct([0, 2])

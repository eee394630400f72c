"""AUILC, relative and effective robustness on hand-computed curves, and
the comparison tables built from them."""
import math

import numpy as np
import pytest

from armlab.robustness import report
from armlab.robustness.metrics import (auilc, effective_robustness,
                                       normalise_over_methods,
                                       relative_robustness, trapezoid)

RATES = [round(0.1 * i, 1) for i in range(11)]


def test_auilc_of_known_curves():
    # Linear fall from 1 to 0: area 1/2; a constant: itself.
    assert auilc([1 - r for r in RATES], RATES) == pytest.approx(0.5)
    assert auilc([0.7] * 11, RATES) == pytest.approx(0.7)
    # CIDer's sum_{i=0}^{9} (m_i + m_{i+1}) 0.1 / 2 by hand:
    m = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2]
    by_hand = sum((m[i] + m[i + 1]) * 0.1 / 2 for i in range(10))
    assert auilc(m, RATES) == pytest.approx(by_hand)
    # = mean with half weight on the end points.
    assert auilc(m, RATES) == pytest.approx(
        (sum(m) - (m[0] + m[-1]) / 2) / 10)
    # Uneven grid: (1 + .5)/2 * .5 + (.5 + 0)/2 * .5 = 0.5.
    assert trapezoid([1.0, 0.5, 0.0], [0, 0.5, 1]) == pytest.approx(0.5)


def test_relative_and_effective_robustness():
    f = [80.0, 70.0, 60.0]
    ref = [90.0, 70.0, 50.0]
    levels = [0.0, 0.5, 1.0]
    assert relative_robustness(f, levels) == pytest.approx(
        (80 + 70) / 2 * 0.5 + (70 + 60) / 2 * 0.5)
    # Reference shifted to 80 at level 0: [80, 60, 40] -> 0 + 10 + 20.
    assert effective_robustness(f, ref) == pytest.approx(30.0)
    assert effective_robustness(ref, ref) == 0.0
    assert effective_robustness(ref, f) == pytest.approx(-30.0)


def test_normalisation_over_methods():
    out = normalise_over_methods({'a': 1.0, 'b': 3.0, 'c': 2.0})
    assert out == {'a': 0.0, 'b': 1.0, 'c': 0.5}
    assert all(math.isnan(v) for v in normalise_over_methods(
        {'a': 2.0, 'b': 2.0}).values())


def test_bad_curves_are_refused():
    with pytest.raises(ValueError, match='increase'):
        auilc([1, 2, 3], [0, 0.5, 0.5])
    with pytest.raises(ValueError, match='levels'):
        auilc([1, 2], [0, 0.5, 1])
    with pytest.raises(ValueError, match='same levels'):
        effective_robustness([1, 2], [1, 2, 3])


def fake(label, values, kind='corruption', levels=(0.0, 0.5, 1.0), seed=1):
    spec = dict(kind=kind, protocol='awgn', levels=list(levels),
                modality='audio', fill=None, seed=seed, min_present=0,
                inform_model=False, params={})
    return dict(label=label, name='audio-awgn', kind=kind, split='test',
                spec=spec, rows=[{'level': lv, 'accuracy/top1': v}
                                 for lv, v in zip(levels, values)])


def test_comparison_table_reports_rr_er_and_normalised_values():
    results = {'joint': fake('joint', [90, 70, 50]),
               'arm': fake('arm', [80, 70, 60])}
    summary = report.summarise(results, reference='joint')
    assert summary['arm']['RR'] == pytest.approx(70.0)
    assert summary['joint']['RR'] == pytest.approx(70.0)
    assert summary['arm']['ER'] == pytest.approx(30.0)
    assert summary['arm']['ER (norm.)'] == 1.0
    assert summary['joint']['ER (norm.)'] == 0.0
    assert math.isnan(summary['arm']['RR (norm.)'])  # a tie
    lines = report.comparison_table(results, reference='joint')
    assert lines[0].split('|')[2:7] == [' 0 ', ' 0.5 ', ' 1 ', ' RR ', ' ER ']
    assert '| arm | 80.0 | 70.0 | 60.0 | 70.0 | 30.0 | – | 1.000 |' in lines


def test_reference_must_be_the_same_sweep():
    with pytest.raises(ValueError, match='seed'):
        report.check_comparable(fake('a', [1, 2, 3]),
                                fake('b', [1, 2, 3], seed=2))
    with pytest.raises(ValueError, match='points'):
        report.check_comparable(
            fake('a', [1, 2, 3]),
            fake('b', [1, 2], levels=(0.0, 1.0)))
    smm = fake('a', [1, 2, 3], kind='subsets')
    assert report.summarise({'a': smm}) == {}
    assert np.isfinite(report.summarise({'a': fake('a', [1, 2, 3])})['a']
                       ['RR'])

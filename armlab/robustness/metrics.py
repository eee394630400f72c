"""Summaries of robustness curves (definitions: docs/robustness.md).

A curve is a metric f_i measured at increasing levels (missing rates or
corruption levels) l_0 < ... < l_n. Values keep the metric's own scale: an
accuracy in percent gives an AUILC / RR in percent.
"""
import math
from typing import Dict, Sequence

import numpy as np


def _curve(values: Sequence[float], levels: Sequence[float]):
    values = np.asarray(values, np.float64)
    levels = np.asarray(levels, np.float64)
    if values.shape != levels.shape or values.ndim != 1 or len(values) < 2:
        raise ValueError(f'a curve needs >= 2 values at as many levels; got '
                         f'{values.shape} values at {levels.shape} levels')
    if np.any(np.diff(levels) <= 0):
        raise ValueError(f'levels must increase strictly: {levels.tolist()}')
    return values, levels


def trapezoid(values: Sequence[float], levels: Sequence[float]) -> float:
    """sum_i (f_i + f_{i+1}) (l_{i+1} - l_i) / 2."""
    values, levels = _curve(values, levels)
    return float(np.sum((values[1:] + values[:-1]) * np.diff(levels) / 2))


def auilc(values: Sequence[float], rates: Sequence[float]) -> float:
    """Area under the indicator-missing-rate line chart (CIDer): the
    trapezoid over the rates; on {0, 0.1, ..., 1} it is the curve mean with
    half weight on the end points."""
    return trapezoid(values, rates)


def relative_robustness(values: Sequence[float],
                        levels: Sequence[float]) -> float:
    """MultiBench's relative robustness: the trapezoid area under the
    accuracy-vs-level curve."""
    return trapezoid(values, levels)


def effective_robustness(values: Sequence[float],
                         reference: Sequence[float]) -> float:
    """MultiBench's effective robustness: sum_i (f_i - [g_i + (f_0 - g_0)]),
    the accuracy above the reference curve g (the late-fusion / joint
    baseline under the same protocol and seed) shifted to the same clean
    accuracy. Both curves are on the same levels, level 0 first."""
    values = np.asarray(values, np.float64)
    reference = np.asarray(reference, np.float64)
    if values.shape != reference.shape or values.ndim != 1:
        raise ValueError(f'effective robustness needs curves on the same '
                         f'levels; got {values.shape} and {reference.shape}')
    shifted = reference + (values[0] - reference[0])
    return float(np.sum(values - shifted))


def normalise_over_methods(scores: Dict[str, float]) -> Dict[str, float]:
    """Max-min normalisation across the methods compared (MultiBench):
    (x - min) / (max - min). NaN for every method when they all tie (the
    normalisation is undefined)."""
    finite = [v for v in scores.values() if math.isfinite(v)]
    if not finite:
        return {k: float('nan') for k in scores}
    low, high = min(finite), max(finite)
    if high == low:
        return {k: float('nan') for k in scores}
    return {k: (v - low) / (high - low) if math.isfinite(v) else float('nan')
            for k, v in scores.items()}

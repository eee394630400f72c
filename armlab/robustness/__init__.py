"""Robustness protocols: missing modalities and corruption sweeps.

``masks`` (missing-modality draws), ``corruptions`` (raw-media corruptions)
and ``metrics`` (AUILC, RR, ER) are pure functions; ``transforms`` holds the
pipeline steps (``MissingModality``, ``CorruptModality``); ``sweep`` runs a model over a
protocol's levels and ``report`` writes the tables and plots. ``sweep`` and
``report`` are imported on use (they need the whole toolbox).
"""
from . import transforms  # noqa: F401  (registers the pipeline steps)
from .corruptions import CORRUPTIONS, DEFAULT_SWEEPS, get_corruption
from .masks import PROTOCOLS, mask_rng, smm_subsets
from .metrics import (auilc, effective_robustness, normalise_over_methods,
                      relative_robustness)

__all__ = [
    'CORRUPTIONS', 'DEFAULT_SWEEPS', 'get_corruption', 'PROTOCOLS',
    'mask_rng', 'smm_subsets', 'auilc', 'effective_robustness',
    'normalise_over_methods', 'relative_robustness'
]

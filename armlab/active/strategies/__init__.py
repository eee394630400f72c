"""Acquisition strategies; importing this module registers them.

Names for ``--strategy`` / ``active_learning.strategy``: random, entropy,
margin, least_confidence, bald, coreset, kmeans, badge, bmmal (this
package's classical strategies), evidential (``evidential.py``) and
rl_policy (``policy.py``).
"""
from . import evidential, policy  # noqa: F401  (register)
from .badge import BADGESampling, gradient_embedding, kmeanspp_seeding
from .bald import BALDSampling, bald_scores
from .base import (AcquisitionContext, AcquisitionStrategy, PoolOutputs,
                   check_selection, top_k)
from .bmmal import BMMALSampling, bmmal_shares, dominant_modality
from .coreset import CoreSetSampling, kcenter_greedy
from .kmeans import KMeansSampling, kmeans_representatives
from .random_sampling import RandomSampling
from .uncertainty import (EntropySampling, LeastConfidenceSampling,
                          MarginSampling, entropy_scores, margin_scores)

__all__ = [
    'PoolOutputs', 'AcquisitionContext', 'AcquisitionStrategy', 'top_k',
    'check_selection', 'RandomSampling', 'EntropySampling', 'MarginSampling',
    'LeastConfidenceSampling', 'BALDSampling', 'CoreSetSampling',
    'KMeansSampling', 'BADGESampling', 'BMMALSampling', 'entropy_scores',
    'margin_scores', 'bald_scores', 'kcenter_greedy', 'kmeanspp_seeding',
    'gradient_embedding', 'kmeans_representatives', 'bmmal_shares',
    'dominant_modality', 'build_strategy', 'strategy_names'
]


def strategy_names() -> list:
    """Every registered name (short names and class names), sorted."""
    from armlab.registry import ACQUISITION_STRATEGIES
    return sorted(ACQUISITION_STRATEGIES.module_dict)


def build_strategy(cfg) -> AcquisitionStrategy:
    """A strategy from a name or a ``dict(type=name, **kwargs)``."""
    from armlab.registry import ACQUISITION_STRATEGIES
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = cfg.get('type')
    if ACQUISITION_STRATEGIES.get(name) is None:
        raise KeyError(f'unknown acquisition strategy {name!r}; registered: '
                       f'{strategy_names()}')
    return ACQUISITION_STRATEGIES.build(cfg)

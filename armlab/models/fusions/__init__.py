from . import (backdoor_adjusted, boosted_ensemble,  # noqa: F401
               detached_interactive, evidential, shared_head)
from .base import BaseFusion
from .concat import ConcatFusion
from .cosine import CosineFusion
from .film import FiLMFusion
from .gated import GatedFusion
from .probability_average import ProbabilityAverageFusion
from .sum import SumFusion

__all__ = [
    'BaseFusion', 'ConcatFusion', 'CosineFusion', 'SumFusion', 'FiLMFusion', 'GatedFusion',
    'ProbabilityAverageFusion'
]

# Each method registers its balancer (and hook) on import.
from . import agm, amst, greedy, mla, mmpareto, modality_valuation, ogm_ge, pmr  # noqa: F401
from .arm import ARMBalancer, ARMHook
from .base import Balancer

__all__ = ['ARMBalancer', 'ARMHook', 'Balancer']

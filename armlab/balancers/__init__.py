# Each method registers its balancer (and hook) on import.
from . import (agm, amst, greedy, inforeg, lfm, mla,  # noqa: F401
               mmpareto, modality_valuation, ogm_ge, opm, pmr, umt,
               unimodal_ensemble)
from .arm import ARMBalancer, ARMHook
from .base import Balancer

__all__ = ['ARMBalancer', 'ARMHook', 'Balancer']

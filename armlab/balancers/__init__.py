# Each method registers its balancer (and hook) on import.
from . import (agm, amco, amst, cml, diagnose_relearn,  # noqa: F401
               dimml, gblend, greedy, inforeg, lfm, mbsd, mla, mmpareto,
               modality_valuation, mssd, ogm_ge, opm, pmr, reconboost, umt,
               unimodal_ensemble)
from .arm import ARMBalancer, ARMHook
from .base import Balancer

__all__ = ['ARMBalancer', 'ARMHook', 'Balancer']

"""Samplers of data-level methods; importing this module registers them."""
from .resampling import ResamplingSampler

__all__ = ['ResamplingSampler']

"""Engine-level pieces (hooks, loops) shared by all methods."""
from .bad_sample_hook import BadSampleHook

__all__ = ['BadSampleHook']

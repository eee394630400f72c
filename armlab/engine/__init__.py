"""Engine-level pieces (hooks, loops) shared by all methods."""
from .bad_sample_hook import BadSampleHook
from .class_prototype_hook import ClassPrototypeHook
from .draw_seed_hook import DrawSeedHook

__all__ = ['BadSampleHook', 'ClassPrototypeHook', 'DrawSeedHook']

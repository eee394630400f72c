"""Engine-level pieces (hooks, loops) shared by all methods."""
from .bad_sample_hook import BadSampleHook
from .bias_words_hook import BiasWordsHook
from .class_prototype_hook import ClassPrototypeHook
from .draw_seed_hook import DrawSeedHook

__all__ = ['BadSampleHook', 'BiasWordsHook', 'ClassPrototypeHook',
           'DrawSeedHook']

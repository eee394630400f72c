"""armlab: an OpenMMLab-style toolbox for imbalanced multimodal learning."""
from . import fileio  # noqa: F401  (registers the atomic_local backend)
from .utils.checkpoint_compat import patch_checkpoint_loading
from .version import __version__

patch_checkpoint_loading()

__all__ = ['__version__']

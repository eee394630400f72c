from . import mmtm  # noqa: F401  (MMTMClassifier)
from .multimodal import MultimodalClassifier

__all__ = ['MultimodalClassifier']

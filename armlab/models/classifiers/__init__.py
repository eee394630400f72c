from . import mmtm  # noqa: F401  (MMTMClassifier)
from .amst_full import AMSTFullClassifier
from .multimodal import MultimodalClassifier

__all__ = ['MultimodalClassifier', 'AMSTFullClassifier']

from . import mmtm  # noqa: F401  (MMTMClassifier)
from .amst_full import AMSTFullClassifier
from .multimodal import MultimodalClassifier
from .regressor import MultimodalRegressor

__all__ = ['MultimodalClassifier', 'MultimodalRegressor', 'AMSTFullClassifier']

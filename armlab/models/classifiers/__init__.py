from . import cider, cross_modal_transformer, mmtm  # noqa: F401  (register)
from .amst_full import AMSTFullClassifier
from .multimodal import MultimodalClassifier
from .regressor import MultimodalRegressor

__all__ = ['MultimodalClassifier', 'MultimodalRegressor', 'AMSTFullClassifier']

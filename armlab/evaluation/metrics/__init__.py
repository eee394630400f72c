from .multimodal_accuracy import MultimodalAccuracy
from .sentiment import classification_metrics, regression_metrics

__all__ = ['MultimodalAccuracy', 'classification_metrics',
           'regression_metrics']

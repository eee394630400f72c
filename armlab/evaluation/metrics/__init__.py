from .multimodal_accuracy import MultimodalAccuracy
from .sentiment import (classification_metrics, regression_metrics,
                        seven_class_metrics)
from .sentiment_metric import SentimentClassificationMetric

__all__ = ['MultimodalAccuracy', 'SentimentClassificationMetric',
           'classification_metrics', 'regression_metrics',
           'seven_class_metrics']

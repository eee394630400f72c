from .multimodal_accuracy import MultimodalAccuracy
from .sentiment import (classification_metrics, regression_metrics,
                        seven_class_metrics)
from .sentiment_metric import SentimentClassificationMetric
from .sentiment_regression_metric import SentimentRegressionMetric

__all__ = ['MultimodalAccuracy', 'SentimentClassificationMetric',
           'SentimentRegressionMetric',
           'classification_metrics', 'regression_metrics',
           'seven_class_metrics']

from .multimodal_accuracy import MultimodalAccuracy

__all__ = ['MultimodalAccuracy']

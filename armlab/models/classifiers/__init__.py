from .multimodal import MultimodalClassifier

__all__ = ['MultimodalClassifier']

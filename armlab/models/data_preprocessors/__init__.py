"""Data preprocessors; importing this module registers them."""
from .multimodal import MultimodalDataPreprocessor

__all__ = ['MultimodalDataPreprocessor']

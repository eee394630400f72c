"""Datasets and data pipeline; importing this module registers them."""
from . import transforms  # noqa: F401
from .avdigits_dataset import AVDigitsDataset
from .multimodal_dataset import MultimodalDataset

__all__ = ['MultimodalDataset', 'AVDigitsDataset']

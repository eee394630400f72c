"""Datasets and data pipeline; importing this module registers them."""
from . import samplers, transforms  # noqa: F401
from .av_clip_dataset import AVClipDataset
from .avdigits_dataset import AVDigitsDataset
from .multimodal_dataset import MultimodalDataset
from .samplers import ResamplingSampler

__all__ = ['AVClipDataset', 'MultimodalDataset', 'AVDigitsDataset', 'ResamplingSampler']

"""Tiny MMTM models and batches, shared by the MMTM and Greedy tests."""
import torch

from armlab.models.classifiers.mmtm import MMTMClassifier

# Different widths, so that a running average sized or fed from the wrong
# branch cannot go unnoticed.
ENCODERS = dict(audio=dict(type='SpectrogramResNet', base_channels=4),
                visual=dict(type='FrameResNet', base_channels=8))


def mmtm_model(cls=MMTMClassifier, **kwargs):
    torch.manual_seed(0)
    return cls(encoders=ENCODERS, fusion=dict(type='ConcatFusion'),
               num_classes=3,
               data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'),
               **kwargs)


def batch(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(audio=torch.randn(b, 1, 16, 16, generator=g),
                visual=torch.randn(b, 3, 2, 16, 16, generator=g))

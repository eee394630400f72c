from . import (sequence_encoder, sequence_projector,  # noqa: F401
               text_encoder)
from .mlp import MLPEncoder
from .resnet_encoders import FrameResNet, SpectrogramResNet

__all__ = ['FrameResNet', 'MLPEncoder', 'SpectrogramResNet']

from . import (gru_sequence_encoder, sequence_encoder,  # noqa: F401
               sequence_projector, text_encoder, word_aligned_attention)
from .mlp import MLPEncoder
from .resnet_encoders import FrameResNet, SpectrogramResNet

__all__ = ['FrameResNet', 'MLPEncoder', 'SpectrogramResNet']

from . import sequence_encoder, text_encoder  # noqa: F401  (register)
from .mlp import MLPEncoder
from .resnet_encoders import FrameResNet, SpectrogramResNet

__all__ = ['FrameResNet', 'MLPEncoder', 'SpectrogramResNet']

from .mlp import MLPEncoder
from .resnet_encoders import FrameResNet, SpectrogramResNet

__all__ = ['FrameResNet', 'MLPEncoder', 'SpectrogramResNet']

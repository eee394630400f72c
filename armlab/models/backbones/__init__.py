from .resnet_encoders import FrameResNet, SpectrogramResNet

__all__ = ['FrameResNet', 'SpectrogramResNet']

from .arm import ARMBalancer, ARMHook
from .base import Balancer

__all__ = ['ARMBalancer', 'ARMHook', 'Balancer']

from .base import Balancer

__all__ = ['Balancer']

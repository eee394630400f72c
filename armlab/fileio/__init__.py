"""File backends: how armlab writes what it must not lose."""
from .atomic_local import AtomicLocalBackend

__all__ = ['AtomicLocalBackend']

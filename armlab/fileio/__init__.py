"""File backends: how armlab writes what it must not lose."""
from .atomic_local import AtomicLocalBackend, atomic_path, write_atomic

__all__ = ['AtomicLocalBackend', 'atomic_path', 'write_atomic']

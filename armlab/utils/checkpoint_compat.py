"""Checkpoint loading on torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
checkpoints hold message-hub state, numpy scalars and config objects, so
``--resume``, ``load_from`` and ``load_checkpoint`` all fail with an
``UnpicklingError``. This module re-registers mmengine's loader for local files
with one that passes ``weights_only=False``. It is the one compatibility shim
of the project: call :func:`patch_checkpoint_loading` (``import armlab`` does)
before a Runner loads anything. Only load checkpoints you trust, as with any
pickle.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_PATCHED = False


def _load_local(filename: str, map_location=None):
    """Load a local checkpoint written by mmengine (a trusted pickle)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def patch_checkpoint_loading() -> None:
    """Make mmengine load its own local checkpoints on torch >= 2.6."""
    global _PATCHED
    if _PATCHED:
        return
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)
    _PATCHED = True

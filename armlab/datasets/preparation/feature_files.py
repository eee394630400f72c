"""Feature arrays written by the preparation tools of feature datasets
(IEMOCAP, CMU-MOSI / MOSEI)."""
import os
import os.path as osp

import numpy as np

__all__ = ['save_npy']


def save_npy(path: str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` through a temporary file (an interrupted
    run leaves no half-written file); an identical file is left untouched,
    so a second run rewrites nothing."""
    if osp.isfile(path):
        try:
            if np.array_equal(np.load(path), array):
                return
        except ValueError:
            pass
    tmp = f'{path}.tmp.npy'
    np.save(tmp, array)
    os.replace(tmp, path)

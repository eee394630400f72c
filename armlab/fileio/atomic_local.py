"""A local file backend whose writes are atomic.

mmengine's ``LocalBackend.put`` opens the checkpoint path and writes into
it, so a crash (power cut, OOM kill, full disk) halfway through leaves a
truncated ``epoch_N.pth`` that ``--resume`` then fails on, and the previous
good checkpoint may already have been deleted by ``max_keep_ckpts``. This
backend writes to a temporary file in the same folder, flushes it to disk,
and renames it over the target: the path holds either the old file or the
whole new one, never a part. The default runtime sets it on CheckpointHook
with ``backend_args=dict(backend='atomic_local')``.
"""
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def _default_file_mode() -> int:
    """0o666 less the process umask: what ``open(path, 'w')`` would give
    (``mkstemp`` creates 0o600, private to the owner)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


@contextmanager
def atomic_path(target: Union[str, Path], folder: bool = False):
    """Yield a temporary path next to ``target``; rename it over ``target``
    when the block succeeds, remove it when the block fails.

    The one atomic-write rule of armlab, for writers that need a path
    (soundfile, ``np.save``, a folder of frames) as well as for bytes
    (:func:`write_atomic`): ``target`` holds either its old content or the
    whole new one. The temporary name is unique (``mkstemp`` / ``mkdtemp``),
    so concurrent writers of one target cannot collide.

    Args:
        target: The final file or folder.
        folder: Yield an empty folder instead of an empty file; an existing
            ``target`` folder is replaced.
    """
    target = str(target)
    parent = osp.dirname(osp.abspath(target))
    os.makedirs(parent, exist_ok=True)
    prefix = f'.{osp.basename(target)}.'
    if folder:
        tmp = tempfile.mkdtemp(dir=parent, prefix=prefix, suffix='.tmp')
    else:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=prefix, suffix='.tmp')
        os.close(fd)
    try:
        yield tmp
        if folder:
            _remove(target)
        else:
            os.chmod(tmp, _default_file_mode())
        os.replace(tmp, target)
    finally:
        _remove(tmp)


def write_atomic(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file, flushed to
    disk, and a rename."""
    with atomic_path(filepath) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomic(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_atomic(obj.encode(encoding), filepath)

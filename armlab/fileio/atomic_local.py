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
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def _default_file_mode() -> int:
    """0o666 less the process umask: what ``open(path, 'w')`` would give
    (``mkstemp`` creates 0o600, private to the owner)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file and a rename."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix=f'.{osp.basename(filepath)}.',
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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

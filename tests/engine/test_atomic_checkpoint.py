"""Checkpoints are written whole: a crash during a write leaves the old
file intact and no partial file behind."""
import os
from pathlib import Path

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from armlab.fileio import AtomicLocalBackend
from armlab.fileio import atomic_local


def test_backend_is_registered_and_writes(tmp_path):
    backend = get_file_backend(str(tmp_path),
                               backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', tmp_path / 'sub' / 'x.bin')
    backend.put_text('last', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'sub' / 'x.bin').read_bytes() == b'abc'
    assert (tmp_path / 'last_checkpoint').read_text() == 'last'
    # The permissions of a plain open(), not mkstemp's private 0o600.
    (tmp_path / 'plain').write_bytes(b'')
    assert (tmp_path / 'sub' / 'x.bin').stat().st_mode == \
        (tmp_path / 'plain').stat().st_mode


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / 'epoch_1.pth')
    args = dict(backend='atomic_local')
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, path,
                    backend_args=args)
    real_open = open

    class Crashing:
        """A file that dies after writing half of what it was given."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:len(data) // 2])
            raise OSError('disk full (simulated)')

    # The module's own ``open`` (a global shadowing the builtin).
    monkeypatch.setattr(atomic_local, 'open',
                        lambda file, mode: Crashing(real_open(file, mode)),
                        raising=False)
    with pytest.raises(OSError, match='simulated'):
        save_checkpoint({'state_dict': {'w': torch.zeros(1000)}}, path,
                        backend_args=args)
    monkeypatch.undo()
    ckpt = torch.load(path, weights_only=False)
    torch.testing.assert_close(ckpt['state_dict']['w'], torch.ones(3))
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_default_runtime_writes_checkpoints_atomically():
    from mmengine.config import Config
    from conftest import REPO
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'))
    assert cfg.default_hooks.checkpoint.backend_args == dict(
        backend='atomic_local')


def test_atomic_path_keeps_the_old_content_when_the_writer_fails(tmp_path):
    from armlab.fileio import atomic_path
    target = tmp_path / 'out.bin'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError, match='writer died'):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b'half')
            raise RuntimeError('writer died')
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.bin']


def test_atomic_path_replaces_a_folder_whole(tmp_path):
    from armlab.fileio import atomic_path
    target = tmp_path / 'frames'
    target.mkdir()
    (target / 'stale.jpg').write_bytes(b'x')
    with atomic_path(target, folder=True) as tmp:
        assert not (target / 'new.jpg').exists()
        (Path(tmp) / 'new.jpg').write_bytes(b'y')
    assert sorted(p.name for p in target.iterdir()) == ['new.jpg']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['frames']

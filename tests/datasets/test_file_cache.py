"""The shared in-memory file cache: same samples as the files, one copy for
all workers, clear errors, and the valuation loader that keeps its workers."""
import os
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import soundfile as sf
import torch
from mmengine.config import Config
from torch.utils.data import DataLoader, Dataset

from conftest import REPO, TINY_BUILD

from armlab.datasets.file_cache import SharedFileCache, as_float32
from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.registry import DATASETS

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


def _avdigits(root, cache, split='train'):
    cfg = Config.fromfile(str(CONFIG))
    spec = dict(cfg[f'{split}_dataloader'].dataset)
    spec.update(data_root=str(root), build_cfg=dict(TINY_BUILD), cache=cache)
    return DATASETS.build(spec)


def test_cached_samples_equal_the_files(tiny_root):
    cached, files = _avdigits(tiny_root, True), _avdigits(tiny_root, False)
    assert cached.file_cache is not None and files.file_cache is None
    # 60 clips, 60 x 3 frames (every frame of a folder, not just the drawn).
    assert len(cached.file_cache) == 60 * 4
    cached.draw_seeds.set(0, 1)
    files.draw_seeds.set(0, 1)
    for i in (0, 17, 59):
        a, b = cached[i], files[i]
        for m in ('audio', 'visual'):
            assert torch.equal(a['inputs'][m], b['inputs'][m]), m


def test_pcm16_is_read_as_soundfile_reads_it(tmp_path):
    rng = np.random.default_rng(0)
    wave = rng.uniform(-1, 1, 4000).astype(np.float32)
    path = str(tmp_path / 'a.wav')
    sf.write(path, wave, 16000, subtype='PCM_16')
    cache = SharedFileCache(audio_paths=[path])
    got, rate = cache.audio(path)
    ref, ref_rate = sf.read(path, dtype='float32', always_2d=True)
    assert rate == ref_rate == 16000
    assert got.dtype == np.float32 and np.array_equal(got, ref)
    assert cache.array(path).dtype == np.int16  # half the memory
    assert as_float32(cache.array(path)).flags.writeable


def test_datasets_of_one_annotation_file_share_one_cache(tiny_root):
    a = _avdigits(tiny_root, True, 'val')
    b = _avdigits(tiny_root, True, 'val')
    assert a.file_cache is b.file_cache


def test_a_spawned_worker_gets_a_handle_not_a_copy(tiny_root):
    dataset = _avdigits(tiny_root, True)
    cache = dataset.file_cache
    assert cache.block.is_shared()
    sent = ForkingPickler.dumps(cache)
    # The entries table travels; the decoded bytes stay in shared memory.
    assert len(sent) < cache.nbytes / 4
    assert len(pickle.dumps(cache.entries)) > len(sent) / 2


class _TouchEverything(Dataset):
    """Reads every cached clip (as an epoch does); returns the worker's
    private memory before and after."""

    def __init__(self, cache, paths):
        self.cache, self.paths = cache, paths

    def __len__(self):
        return 2

    def __getitem__(self, index):
        before = _private_kb(os.getpid())
        total = sum(int(self.cache.array(p).sum()) for p in self.paths)
        return os.getpid(), total, before, _private_kb(os.getpid())


def _private_kb(pid):
    """Private (unshared) resident memory of a process, in kB."""
    fields = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(':')] = int(parts[1])
    return fields['Private_Clean'] + fields['Private_Dirty']


@pytest.mark.skipif(not os.path.exists('/proc/self/smaps_rollup'),
                    reason='needs Linux /proc smaps_rollup')
def test_two_workers_do_not_copy_the_cache(tmp_path):
    paths = []
    for i in range(16):  # 16 clips x 90 s x 16 kHz x int16: 46 MB
        path = str(tmp_path / f'{i}.wav')
        sf.write(path, np.full(1440000, 0.25 * (i % 3), np.float32), 16000,
                 subtype='PCM_16')
        paths.append(path)
    cache = SharedFileCache(audio_paths=paths)
    # Forked, as the configs start workers; a spawned worker receives the
    # cache pickled, which test_a_spawned_worker_gets_a_handle_not_a_copy
    # covers.
    loader = DataLoader(_TouchEverything(cache, paths), batch_size=1,
                        num_workers=2, persistent_workers=True,
                        multiprocessing_context='fork')
    seen = [tuple(int(x) if i != 1 else float(x) for i, x in enumerate(row))
            for row in loader]
    assert len({row[0] for row in seen}) == 2  # two workers
    assert len({row[1] for row in seen}) == 1  # reading the same values
    # Reading all 46 MB made no worker's private memory grow by more than a
    # tenth of it: the pages are the shared block, not copies.
    growth_mb = [(after - before) / 2**10 for _, _, before, after in seen]
    assert all(g < cache.nbytes / 2**20 / 10 for g in growth_mb), growth_mb


def test_bad_cache_input_is_named(tmp_path, tiny_root):
    bad = tmp_path / 'bad.wav'
    bad.write_bytes(b'not a wav file')
    with pytest.raises(OSError, match='bad.wav'):
        SharedFileCache(audio_paths=[str(bad)])
    with pytest.raises(ValueError, match='no_such_key'):
        _avdigits(tiny_root, ['no_such_key'])


class _Pid(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return index, os.getpid()


def test_valuation_passes_keep_their_workers():
    valuation = TrainingSetValuation(owner='test')
    valuation.loader = DataLoader(_Pid(), batch_size=2, num_workers=1)
    first = [x for batch in valuation.subset_loader([1, 3, 5])
             for x in zip(*batch)]
    second = [x for batch in valuation.subset_loader([0, 2])
              for x in zip(*batch)]
    assert [int(i) for i, _ in first] == [1, 3, 5]
    assert [int(i) for i, _ in second] == [0, 2]
    assert {int(p) for _, p in first} == {int(p) for _, p in second}
    assert {int(p) for _, p in first} != {os.getpid()}

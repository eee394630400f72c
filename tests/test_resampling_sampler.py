"""ResamplingSampler and MultimodalDataset's masked-copy index."""
import json
import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate
from torch.utils.data import DataLoader

import armlab.datasets.samplers  # noqa: F401  (registers the sampler)
from armlab.datasets import MultimodalDataset
from armlab.datasets.samplers import ResamplingSampler
from armlab.datasets.samplers import resampling
from armlab.registry import DATA_SAMPLERS

N = 10
REPEATS = np.array([1, 3, 1, 2, 1, 4, 1, 1, 2, 1])
# Extra copies drop the second modality, except sample 5 which drops the first.
MASKS = np.tile([True, False], (N, 1))
MASKS[5] = [False, True]


class _Sized:
    """A dataset stand-in: only the length matters to the sampler."""

    def __init__(self, n: int, modalities=('audio', 'visual')) -> None:
        self.n = n
        self.metainfo = dict(modalities=modalities)

    def __len__(self) -> int:
        return self.n


def _sampler(n=N, rank=0, world_size=1, monkeypatch=None, **kwargs):
    if monkeypatch is not None:
        monkeypatch.setattr(resampling, 'get_dist_info',
                            lambda: (rank, world_size))
    kwargs.setdefault('seed', 0)
    return ResamplingSampler(_Sized(n), **kwargs)


def _index(item):
    return item[0] if isinstance(item, tuple) else item


# ------------------------------------------------------------ plain sampler
@pytest.mark.parametrize('shuffle', [True, False])
@pytest.mark.parametrize('round_up', [True, False])
def test_plain_equals_default_sampler(shuffle, round_up):
    data = _Sized(N)
    ours = ResamplingSampler(data, shuffle=shuffle, seed=3, round_up=round_up)
    ref = DefaultSampler(data, shuffle=shuffle, seed=3, round_up=round_up)
    for epoch in (0, 4):
        ours.set_epoch(epoch)
        ref.set_epoch(epoch)
        assert list(ours) == list(ref)
        assert len(ours) == len(ref)
    # A plan of ones without masks changes nothing either.
    ours.set_plan(np.ones(N, dtype=int))
    assert list(ours) == list(ref)
    ours.clear_plan()
    assert list(ours) == list(ref) and not ours.has_plan


def test_plain_ranks_equal_default_sampler(monkeypatch):
    data = _Sized(7)
    for rank in (0, 1):
        monkeypatch.setattr(resampling, 'get_dist_info', lambda: (rank, 2))
        monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info',
                            lambda: (rank, 2))
        ours = ResamplingSampler(data, seed=1)
        ref = DefaultSampler(data, seed=1)
        assert list(ours) == list(ref) and len(ours) == len(ref) == 4


def test_registry_build_and_seed_sync():
    sampler = DATA_SAMPLERS.build(
        dict(type='ResamplingSampler', dataset=_Sized(N), mode='weighted'))
    assert isinstance(sampler, ResamplingSampler)
    assert isinstance(sampler.seed, int)  # drawn by sync_random_seed


# ------------------------------------------------------------- repeat mode
def test_repeat_mode_counts_and_masks():
    sampler = _sampler()
    sampler.set_plan(REPEATS, MASKS)
    items = list(sampler)
    assert len(items) == len(sampler) == REPEATS.sum()
    counts = Counter(_index(item) for item in items)
    assert [counts[i] for i in range(N)] == REPEATS.tolist()
    plain = [item for item in items if not isinstance(item, tuple)]
    assert sorted(plain) == list(range(N))  # every sample once, unmasked
    assert all(type(item) is int for item in plain)
    for item in items:
        if isinstance(item, tuple):
            index, mask = item
            assert mask == tuple(MASKS[index].tolist())
            assert all(type(flag) is bool for flag in mask)
    stats = sampler.plan_stats()
    assert stats['epoch_length'] == REPEATS.sum()
    assert stats['masked_fraction'] == pytest.approx(
        (REPEATS - 1).sum() / REPEATS.sum())
    assert stats['repeat_histogram'] == {1: 6, 2: 2, 3: 1, 4: 1}


def test_repeat_mode_without_masks_yields_ints():
    sampler = _sampler(shuffle=False)
    sampler.set_plan(REPEATS)
    items = list(sampler)
    assert all(type(item) is int for item in items)
    assert items[:N] == list(range(N))  # no shuffle: plain pass first
    assert Counter(items) == Counter(
        {i: int(r) for i, r in enumerate(REPEATS)})
    assert sampler.plan_stats()['masked_fraction'] == 0


# ----------------------------------------------------------- weighted mode
def test_weighted_mode_frequencies_and_masking():
    n = 4
    repeats = np.array([1, 2, 3, 4])
    masks = np.tile([False, True], (n, 1))
    sampler = _sampler(n=n, mode='weighted')
    sampler.set_plan(repeats, masks)
    draws, masked = Counter(), Counter()
    epochs = 500
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        items = list(sampler)
        assert len(items) == len(sampler) == n
        for item in items:
            draws[_index(item)] += 1
            if isinstance(item, tuple):
                assert item[1] == (False, True)
                masked[item[0]] += 1
    freq = np.array([draws[i] for i in range(n)]) / (epochs * n)
    np.testing.assert_allclose(freq, repeats / repeats.sum(), atol=0.02)
    for i, r in enumerate(repeats):
        assert masked[i] / draws[i] == pytest.approx((r - 1) / r, abs=0.05)
    assert sampler.plan_stats()['masked_fraction'] == pytest.approx(6 / 10)


def test_weighted_mode_without_masks_and_without_shuffle():
    sampler = _sampler(mode='weighted', shuffle=False)
    sampler.set_plan(REPEATS)
    items = list(sampler)
    assert all(type(item) is int for item in items)
    assert items == sorted(items) and len(items) == N


# ------------------------------------------------- determinism and ranks
@pytest.mark.parametrize('mode', ['repeat', 'weighted'])
def test_determinism(mode):
    first, second = _sampler(mode=mode), _sampler(mode=mode)
    for sampler in (first, second):
        sampler.set_plan(REPEATS, MASKS)
        sampler.set_epoch(2)
    assert list(first) == list(second) == list(first)
    second.set_epoch(3)
    assert list(first) != list(second)


@pytest.mark.parametrize('mode', ['repeat', 'weighted'])
@pytest.mark.parametrize('round_up', [True, False])
def test_two_ranks_split_the_global_list(monkeypatch, mode, round_up):
    n = 9  # odd epoch lengths exercise the padding
    repeats, masks = np.ones(n, dtype=int), np.ones((n, 2), dtype=bool)
    repeats[[0, 4]] = [2, 3]
    masks[:, 1] = False
    slices = []
    for rank in (0, 1):
        sampler = _sampler(n=n, rank=rank, world_size=2, mode=mode,
                           round_up=round_up, monkeypatch=monkeypatch)
        sampler.set_plan(repeats, masks)
        sampler.set_epoch(1)
        slices.append(list(sampler))
        assert len(slices[-1]) == len(sampler)
    whole = _sampler(n=n, mode=mode, round_up=round_up,
                     monkeypatch=monkeypatch)  # world size 1
    whole.set_plan(repeats, masks)
    whole.set_epoch(1)
    global_list = list(whole)
    length = len(global_list)
    assert length == (repeats.sum() if mode == 'repeat' else n)
    # Interleave the slices back: position k of the list went to rank k % 2.
    merged = [None] * (len(slices[0]) + len(slices[1]))
    merged[0::2], merged[1::2] = slices[0], slices[1]
    assert merged[:length] == global_list
    if round_up:
        assert len(slices[0]) == len(slices[1])
        assert merged[length:] == global_list[:len(merged) - length]
    else:
        assert len(merged) == length


# ---------------------------------------------------------- state and errors
def test_state_dict_round_trip():
    sampler = _sampler()
    sampler.set_plan(REPEATS, MASKS)
    state = json.loads(json.dumps(sampler.state_dict()))  # plain lists
    restored = _sampler()
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.repeats, REPEATS)
    np.testing.assert_array_equal(restored.masks, MASKS)
    assert list(restored) == list(sampler)
    restored.load_state_dict(_sampler().state_dict())
    assert not restored.has_plan and len(restored) == N


@pytest.mark.parametrize('repeats, masks, error, words', [
    (np.ones(N - 1, dtype=int), None, ValueError, ['`repeats`', '(9,)',
                                                   'N=10']),
    (np.zeros(N, dtype=int), None, ValueError, ['`repeats`', '>= 1']),
    (np.full(N, 1.5), None, ValueError, ['`repeats`', 'whole']),
    (np.ones(N, dtype=bool), None, TypeError, ['`repeats`']),
    (REPEATS, np.ones((N, 3), dtype=bool), ValueError,
     ['`masks`', '(10, 3)', 'audio']),
    (REPEATS, np.ones((N - 2, 2), dtype=bool), ValueError,
     ['`masks`', '(8, 2)', 'N=10']),
    (REPEATS, np.zeros((N, 2), dtype=bool), ValueError,
     ['`masks`', 'absent']),
])
def test_bad_plans_raise(repeats, masks, error, words):
    sampler = _sampler()
    with pytest.raises(error) as info:
        sampler.set_plan(repeats, masks)
    for word in words:
        assert word in str(info.value)
    assert not sampler.has_plan


def test_bad_mode_raises():
    with pytest.raises(ValueError, match='mode'):
        _sampler(mode='sometimes')


# ------------------------------------------------------ the dataset side
def _fake_load(results: dict) -> dict:
    """Stand-in for the loading transforms: tiny arrays per modality."""
    results['audio'] = np.zeros((4, 6), dtype=np.float32)
    results['visual'] = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    return results


@pytest.fixture
def dataset(tmp_path):
    root = str(tmp_path)
    data_list = []
    for k in range(6):
        paths = {'audio': f'audio/s{k}.wav', 'visual': f'frames/s{k}'}
        os.makedirs(osp.join(root, 'audio'), exist_ok=True)
        open(osp.join(root, paths['audio']), 'wb').close()
        os.makedirs(osp.join(root, paths['visual']), exist_ok=True)
        data_list.append(dict(sample_id=f's{k}', gt_label=k % 2,
                              paths=paths))
    ann = osp.join(root, 'train.json')
    with open(ann, 'w') as f:
        json.dump(dict(metainfo=dict(classes=['a', 'b']),
                       data_list=data_list), f)
    return MultimodalDataset(
        ann, data_root=root, modalities=('audio', 'visual'),
        pipeline=[_fake_load,
                  dict(type='PackMultimodalInputs',
                       modalities=('audio', 'visual'))])


def test_dataset_tuple_index(dataset):
    masked = dataset[(0, (True, False))]['data_samples']
    assert masked.modality_mask.tolist() == [True, False]
    assert masked.sample_idx == 0 and masked.sample_id == 's0'
    plain = dataset[0]['data_samples']
    assert plain.modality_mask.tolist() == [True, True]
    assert plain.sample_idx == 0
    assert 'modality_mask' not in dataset.get_data_info(0)  # not stored
    with pytest.raises(ValueError, match='expected one per modality'):
        dataset[(0, (True, ))]


def test_dataloader_follows_the_plan(dataset):
    n = len(dataset)
    repeats = np.array([1, 2, 1, 3, 1, 1])
    masks = np.ones((n, 2), dtype=bool)
    masks[1] = [True, False]
    masks[3] = [False, True]
    sampler = ResamplingSampler(dataset, seed=0)
    sampler.set_plan(repeats, masks)
    expected = list(sampler)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler,
                        collate_fn=pseudo_collate, num_workers=0)
    seen = []
    for batch in loader:
        assert isinstance(batch['inputs']['audio'][0], torch.Tensor)
        seen += [(ds.sample_idx, tuple(ds.modality_mask.tolist()))
                 for ds in batch['data_samples']]
    assert len(seen) == repeats.sum()
    for item, (index, mask) in zip(expected, seen):
        if isinstance(item, tuple):
            assert (index, mask) == item
        else:
            assert (index, mask) == (item, (True, True))

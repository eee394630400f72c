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


# ---------------------------------------------------- per-item plans
# Sample 1 gets an audio-alone and a visual-alone copy, sample 5 three
# copies of two kinds, sample 8 one: copies of one sample with different
# masks, which a per-sample plan cannot express.
EXTRA = np.array([1, 1, 5, 5, 5, 8])
AUDIO, VISUAL = (True, False), (False, True)
EXTRA_MASKS = np.array([AUDIO, VISUAL, AUDIO, AUDIO, VISUAL, VISUAL])


def _extra_list():
    return [(i, tuple(m)) for i, m in zip(EXTRA.tolist(),
                                          EXTRA_MASKS.tolist())]


def test_extra_items_repeat_mode_yields_exactly_the_items():
    sampler = _sampler(shuffle=False)
    sampler.set_extra_items(EXTRA, EXTRA_MASKS)
    items = list(sampler)
    # No shuffle: the plain pass, then the extra items in the given order.
    assert items == list(range(N)) + _extra_list()
    assert sampler.extra_items() == _extra_list()
    assert all(type(flag) is bool for _, mask in items[N:] for flag in mask)
    np.testing.assert_array_equal(sampler.repeats,
                                  [1, 3, 1, 1, 1, 4, 1, 1, 2, 1])
    stats = sampler.plan_stats()
    assert stats['epoch_length'] == len(sampler) == N + len(EXTRA)
    assert stats['masked_fraction'] == pytest.approx(6 / 16)
    shuffled = _sampler()
    shuffled.set_extra_items(EXTRA, EXTRA_MASKS)
    assert Counter(shuffled) == Counter(items)
    assert list(shuffled) != items


def test_extra_items_without_masks_and_empty():
    sampler = _sampler(shuffle=False)
    sampler.set_extra_items(EXTRA)
    items = list(sampler)
    assert items == list(range(N)) + EXTRA.tolist()
    assert all(type(item) is int for item in items)
    assert sampler.plan_stats()['masked_fraction'] == 0
    # A plan without extra items is the plain epoch.
    ref = _sampler()
    sampler = _sampler()
    sampler.set_extra_items([], np.zeros((0, 2), dtype=bool))
    assert sampler.has_plan and list(sampler) == list(ref)


@pytest.mark.parametrize('mode', ['repeat', 'weighted'])
@pytest.mark.parametrize('shuffle', [True, False])
def test_per_sample_plan_equals_its_extra_items(mode, shuffle):
    """set_plan is the special case of one mask row per sample."""
    per_sample = _sampler(mode=mode, shuffle=shuffle)
    per_sample.set_plan(REPEATS, MASKS)
    index = np.repeat(np.arange(N), REPEATS - 1)
    per_item = _sampler(mode=mode, shuffle=shuffle)
    per_item.set_extra_items(index, MASKS[index])
    for epoch in (0, 3):
        per_sample.set_epoch(epoch)
        per_item.set_epoch(epoch)
        assert list(per_sample) == list(per_item)


def test_extra_items_weighted_mode_frequencies_and_masks():
    sampler = _sampler(mode='weighted')
    sampler.set_extra_items(EXTRA, EXTRA_MASKS)
    repeats = sampler.repeats
    draws, kinds = Counter(), Counter()
    epochs = 400
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        items = list(sampler)
        assert len(items) == len(sampler) == N
        for item in items:
            draws[_index(item)] += 1
            if isinstance(item, tuple):
                kinds[item] += 1
    freq = np.array([draws[i] for i in range(N)]) / (epochs * N)
    np.testing.assert_allclose(freq, repeats / repeats.sum(), atol=0.02)
    # Sample 1's draws: plain, audio-alone, visual-alone, a third each.
    for kind in ((1, AUDIO), (1, VISUAL)):
        assert kinds[kind] / draws[1] == pytest.approx(1 / 3, abs=0.06)
    # Sample 5: two audio-alone copies of three.
    assert kinds[(5, AUDIO)] / draws[5] == pytest.approx(2 / 4, abs=0.06)
    assert set(kinds) == set(_extra_list())


@pytest.mark.parametrize('mode', ['repeat', 'weighted'])
@pytest.mark.parametrize('round_up', [True, False])
def test_extra_items_two_ranks_split_the_global_list(monkeypatch, mode,
                                                    round_up):
    slices = []
    for rank in (0, 1):
        sampler = _sampler(rank=rank, world_size=2, mode=mode,
                           round_up=round_up, monkeypatch=monkeypatch)
        sampler.set_extra_items(EXTRA[:5], EXTRA_MASKS[:5])  # odd length
        sampler.set_epoch(1)
        slices.append(list(sampler))
        assert len(slices[-1]) == len(sampler)
    whole = _sampler(mode=mode, round_up=round_up, monkeypatch=monkeypatch)
    whole.set_extra_items(EXTRA[:5], EXTRA_MASKS[:5])
    whole.set_epoch(1)
    global_list = list(whole)
    length = len(global_list)
    assert length == (N + 5 if mode == 'repeat' else N)
    merged = [None] * (len(slices[0]) + len(slices[1]))
    merged[0::2], merged[1::2] = slices[0], slices[1]
    assert merged[:length] == global_list
    if round_up:
        assert merged[length:] == global_list[:len(merged) - length]
    else:
        assert len(merged) == length


def test_extra_items_state_dict_round_trip():
    sampler = _sampler()
    sampler.set_extra_items(EXTRA, EXTRA_MASKS)
    state = json.loads(json.dumps(sampler.state_dict()))
    assert state['extra_indices'] == EXTRA.tolist()
    restored = _sampler()
    restored.load_state_dict(state)
    assert restored.extra_items() == _extra_list()
    assert list(restored) == list(sampler)
    # Switching back to a per-sample plan, and reading an older state
    # without the per-item keys.
    restored.load_state_dict(dict(repeats=REPEATS.tolist(),
                                  masks=MASKS.tolist()))
    np.testing.assert_array_equal(restored.masks, MASKS)
    assert restored.state_dict()['extra_indices'] is None
    assert len(restored) == REPEATS.sum()


@pytest.mark.parametrize('indices, masks, error, words', [
    (np.array([0, N]), None, ValueError, ['`indices`', '[0, N)', 'N=10']),
    (np.array([-1]), None, ValueError, ['`indices`', '[0, N)']),
    (np.array([[1, 2]]), None, ValueError, ['`indices`', '(E,)']),
    (np.array([1.0, 2.0]), None, TypeError, ['`indices`', 'integers']),
    (EXTRA, EXTRA_MASKS[:4], ValueError, ['`masks`', 'E=6', '(4, 2)']),
    (EXTRA, np.ones((6, 3), dtype=bool), ValueError,
     ['`masks`', '(6, 3)', 'audio']),
    (EXTRA, np.array([AUDIO, (False, False)] * 3), ValueError,
     ['`masks`', 'rows [1, 3, 5]', 'absent']),
    (EXTRA, np.full((6, 2), 0.5), TypeError, ['`masks`', 'booleans']),
])
def test_bad_extra_items_raise(indices, masks, error, words):
    sampler = _sampler()
    with pytest.raises(error) as info:
        sampler.set_extra_items(indices, masks)
    for word in words:
        assert word in str(info.value)
    assert not sampler.has_plan


# ------------------------------------------- no last batch of a single item
def _batch_sizes(sampler, batch_size):
    loader = DataLoader(list(sampler), batch_size=batch_size,
                        collate_fn=lambda batch: batch)
    return [len(batch) for batch in loader]


def test_a_plan_never_leaves_a_last_batch_of_one_item():
    # 8 samples + 5 extra items = 13 = 3 * 4 + 1: the run that crashed
    # BatchNorm ("Expected more than 1 value per channel") at batch size 4.
    sampler = _sampler(n=8, batch_size=4)
    sampler.set_extra_items([0, 1, 2, 3, 7], [[True, False]] * 5)
    assert sampler.plan_stats()['left_out'] == 1
    assert len(sampler) == sampler.plan_stats()['epoch_length'] == 12
    items = list(sampler)
    assert len(items) == 12 and sorted(
        i for i in items if not isinstance(i, tuple)) == list(range(8))
    assert (7, (True, False)) not in items  # the last extra item given
    assert _batch_sizes(sampler, 4) == [4, 4, 4]
    # Without the batch size the epoch keeps every item (and its last batch
    # holds one).
    sampler.set_batch_size(None)
    assert len(list(sampler)) == 13 and sampler.plan_stats()['left_out'] == 0
    assert _batch_sizes(sampler, 4)[-1] == 1
    with pytest.raises(ValueError, match='set_batch_size'):
        sampler.set_batch_size(0)


@pytest.mark.parametrize('round_up', [True, False])
def test_no_rank_gets_a_last_batch_of_one_item(monkeypatch, round_up):
    for extra in range(1, 12):
        counts = []
        for rank in (0, 1):
            sampler = _sampler(n=9, rank=rank, world_size=2,
                               monkeypatch=monkeypatch, batch_size=3,
                               round_up=round_up)
            sampler.set_extra_items([k % 9 for k in range(extra)])
            sizes = _batch_sizes(sampler, 3)
            assert 1 not in sizes, (extra, rank, sizes)
            counts.append(sampler.plan_stats()['left_out'])
        assert counts[0] == counts[1] <= 3  # the ranks agree; few left out

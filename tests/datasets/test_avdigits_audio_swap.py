"""The class-pair ambiguity knob: swap rates, donors within the group, and
no label signal in which samples were corrupted."""
from collections import Counter

import numpy as np
import pytest

from armlab.datasets.avdigits.audio_swap import (audio_swap_sources,
                                                 class_groups)
from armlab.datasets.transforms.imbalance import sample_rng

PAIRS = ((0, 1), (2, 3), (4, 5))
LABELS = [i % 10 for i in range(4000)]


def test_every_class_is_swapped_at_the_same_rate():
    donors = audio_swap_sources(LABELS, 0.4, PAIRS, noise_seed=0,
                                split='train')
    for c in range(10):
        rows = [d for d, y in zip(donors, LABELS) if y == c]
        rate = np.mean([d is not None for d in rows])
        # 400 samples per class: 4 binomial standard deviations is 0.098.
        assert abs(rate - 0.4) < 0.098, (c, rate)


def test_donors_come_from_the_group_with_equal_odds():
    donors = audio_swap_sources(LABELS, 1.0, PAIRS, noise_seed=1,
                                split='val')
    for idx, (donor, y) in enumerate(zip(donors, LABELS)):
        group = class_groups(PAIRS, 10)[y]
        assert LABELS[donor] in group
        if len(group) == 1:
            assert LABELS[donor] == y
    paired = [LABELS[d] == y for d, y in zip(donors, LABELS) if y < 6]
    # Half the paired samples play their pair-mate's audio.
    assert abs(np.mean(paired) - 0.5) < 0.05


def test_draws_depend_on_seed_split_and_index_only():
    a = audio_swap_sources(LABELS, 0.3, PAIRS, 0, 'train')
    assert a == audio_swap_sources(LABELS, 0.3, PAIRS, 0, 'train')
    assert a != audio_swap_sources(LABELS, 0.3, PAIRS, 1, 'train')
    assert a != audio_swap_sources(LABELS, 0.3, PAIRS, 0, 'test')
    # Nested as p grows: every sample swapped at 0.3 is swapped at 0.6,
    # with the same donor.
    b = audio_swap_sources(LABELS, 0.6, PAIRS, 0, 'train')
    assert all(y == x for x, y in zip(a, b) if x is not None)
    assert sum(x is not None for x in b) > sum(x is not None for x in a)


def test_the_corruption_pattern_alone_is_at_chance():
    """Predict the label from (audio swapped, audio erased, visual erased)
    with the best rule fitted on one half: chance on the other half."""
    labels = [int(y) for y in
              np.random.default_rng(5).integers(0, 10, 6000)]
    donors = audio_swap_sources(labels, 0.5, PAIRS, 0, 'train')
    pattern = []
    for idx, donor in enumerate(donors):
        erase = sample_rng(0, 'train', idx, 0).random(2)
        pattern.append((donor is not None, erase[0] < 0.3, erase[1] < 0.3))
    fit, held = range(0, 3000), range(3000, 6000)
    votes = {}
    for i in fit:
        votes.setdefault(pattern[i], Counter())[labels[i]] += 1
    rule = {p: c.most_common(1)[0][0] for p, c in votes.items()}
    acc = np.mean([rule.get(pattern[i], 0) == labels[i] for i in held])
    majority = Counter(labels[i] for i in held).most_common(1)[0][1] / 3000
    assert acc <= majority + 0.03, (acc, majority)


def test_bad_groups_are_named():
    with pytest.raises(ValueError, match='class 3 is in two groups'):
        class_groups(((0, 3), (3, 4)), 10)
    with pytest.raises(ValueError, match='class 12 is not in 0..9'):
        class_groups(((0, 12), ), 10)
    with pytest.raises(ValueError, match='p_swap_audio=1.5'):
        audio_swap_sources(LABELS, 1.5, PAIRS, 0, 'train')


def test_dataset_plays_the_donor_audio(tiny_root):
    from armlab.datasets import AVDigitsDataset
    from conftest import TINY_BUILD
    kept = AVDigitsDataset(split='train', data_root=str(tiny_root),
                           build_cfg=TINY_BUILD, pipeline=[])
    swapped = AVDigitsDataset(split='train', data_root=str(tiny_root),
                              build_cfg=TINY_BUILD, pipeline=[],
                              imbalance=dict(p_swap_audio=1.0,
                                             audio_swap_groups=PAIRS))
    by_id = {kept.get_data_info(i)['sample_id']: kept.get_data_info(i)
             for i in range(len(kept))}
    moved = 0
    for i in range(len(swapped)):
        info, orig = swapped.get_data_info(i), kept.get_data_info(i)
        assert info['gt_label'] == orig['gt_label']
        assert info['visual_path'] == orig['visual_path']
        donor = by_id[info['audio_donor']]
        assert info['audio_path'] == donor['audio_path']
        assert donor['gt_label'] in class_groups(PAIRS, 10)[
            orig['gt_label']]
        moved += info['audio_path'] != orig['audio_path']
    assert moved > len(swapped) // 3

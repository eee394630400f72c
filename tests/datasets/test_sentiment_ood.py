"""The seeded CLUE-style OOD repartition of CMU-MOSI / MOSEI: its objective,
determinism per seed, disjoint splits of the documented sizes, and the tool
on a prepared tiny folder."""
import json

import numpy as np
import pytest

from helpers.raw_text_media import run_script
from helpers.sentiment_pickles import prepare_tiny_mosi

from armlab.datasets.preparation.sentiment_ood import (BalanceObjective,
                                                       repartition, tokens)


def corpus(n=240, seed=0):
    """Utterances where 'great' marks positives and 'awful' negatives in
    most of them: the word -> label shortcut an OOD test should break."""
    rng = np.random.default_rng(seed)
    splits = {}
    sizes = dict(train=120, val=40, test=80)
    k = 0
    for split, size in sizes.items():
        entries = []
        for _ in range(size):
            label = int(rng.integers(0, 3))
            words = ['movie', 'really'] + list(rng.choice(
                ['plot', 'actor', 'scene'], 2))
            if label == 2:
                words.append('great' if rng.random() < 0.8 else 'awful')
            elif label == 0:
                words.append('awful' if rng.random() < 0.8 else 'great')
            entries.append(dict(sample_id=f's{k}', gt_label=label,
                                label3=label, raw_text=' '.join(words) +
                                '.', paths={}))
            k += 1
        splits[split] = entries
    return splits


def test_tokens_drop_punctuation_case_and_stop_words():
    assert tokens("The movie's GREAT, isn't it?") == ['movie', 'great',
                                                      'isn']


def test_objective_by_hand():
    texts = ['great great', 'great', 'awful', 'great awful']
    labels = [2, 0, 0, 1]
    objective = BalanceObjective(texts, labels, min_count=0, mode='np')
    assert objective.vocab == ['awful', 'great']
    member = np.array([True, True, True, True])
    # awful: n 1, p 0 -> 1; great: n 1, p 2 -> 1/3 (the neutral row counts
    # on neither side in 'np')
    assert objective.value(member) == pytest.approx(1 + 1 / 3, abs=1e-5)
    nn = BalanceObjective(texts, labels, min_count=0, mode='nn')
    # 'nn': row 3 (neutral) is on the positive side: awful 1 vs 1, great 1
    # vs 3
    assert nn.value(member) == pytest.approx(0 + 2 / 4, abs=1e-5)


@pytest.mark.parametrize('pool', ['test', 'all'])
def test_repartition_balances_words_deterministically_and_disjointly(pool):
    splits = corpus()
    a = repartition(splits, pool=pool, seed=3, min_count=5, steps=3000)
    b = repartition(splits, pool=pool, seed=3, min_count=5, steps=3000)
    c = repartition(splits, pool=pool, seed=4, min_count=5, steps=3000)
    ids = {s: [e['sample_id'] for e in v] for s, v in a['splits'].items()}
    assert ids == {s: [e['sample_id'] for e in v]
                   for s, v in b['splits'].items()}
    assert ids['test'] != [e['sample_id'] for e in c['splits']['test']]
    assert not set(ids['train']) & set(ids['test'])
    assert not set(ids['val']) & set(ids['test'])
    assert not set(ids['train']) & set(ids['val'])
    info = a['info']
    assert 'great' in info['vocabulary'] and 'awful' in info['vocabulary']
    assert info['objective'] < 0.5 * info['objective_random_start']
    if pool == 'test':
        assert len(ids['test']) == 40  # half the official 80
        assert ids['train'] == [e['sample_id'] for e in splits['train']]
        assert set(ids['test']) <= {e['sample_id'] for e in splits['test']}
    else:
        assert {s: len(v) for s, v in ids.items()} == dict(
            train=120, val=40, test=80)
    # In the OOD test 'great' no longer tells positive from negative.
    test = a['splits']['test']
    great = {lab: sum('great' in e['raw_text'] for e in test
                      if e['label3'] == lab) for lab in (0, 2)}
    assert abs(great[0] - great[2]) <= 0.25 * max(1, great[0] + great[2])


def test_entries_without_text_are_named():
    splits = corpus()
    del splits['val'][3]['raw_text']
    with pytest.raises(KeyError, match=r"val entry 's123'.*raw_text"):
        repartition(splits)


def test_tool_writes_annotations_the_dataset_reads(tmp_path):
    from armlab.datasets import MultimodalDataset
    root = prepare_tiny_mosi(tmp_path)
    args = ('tools/data/repartition_sentiment.py', '--root', root, '--pool',
            'all', '--min-count', '0', '--steps', '50')
    code, stdout = run_script(*args)
    assert code == 0, stdout
    out = root / 'annotations' / 'ood_all_s0'
    info = json.loads((out / 'repartition.json').read_text())
    assert info['sizes'] == info['official_sizes']
    ds = MultimodalDataset(data_root=str(root),
                           ann_file='annotations/ood_all_s0/test.json',
                           pipeline=[], test_mode=True)
    assert len(ds) == info['sizes']['test']
    code, stdout = run_script(*args)  # a second run refuses to overwrite
    assert code != 0 and '--overwrite' in stdout

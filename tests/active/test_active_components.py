"""Budgets, the label pool, settings, records and curves of active
learning (no training)."""
import json

import numpy as np
import pytest

from armlab.active import (ActiveLearningSettings, LabelPool, budget_schedule,
                           labels_to_reach, normalized_auc, parse_budget,
                           parse_budget_arg, summarize_metrics)
from armlab.active.records import read_csv, write_csv


def test_budget_count_fraction_and_list():
    assert parse_budget(200, 7000) == 200
    assert parse_budget(0.05, 7000) == 350
    assert parse_budget(0.0001, 7000) == 1  # at least one sample
    assert budget_schedule(100, 3, 1000, initial=50) == [100, 100, 100]
    assert budget_schedule(0.1, 2, 1000) == [100, 100]
    assert budget_schedule([10, 0.02, 30], None, 1000) == [10, 20, 30]
    assert budget_schedule([10, 20], 2, 1000) == [10, 20]
    assert budget_schedule(5, 0, 100) == []


@pytest.mark.parametrize('value, error, match', [
    (0, ValueError, '>= 1'),
    (-3, ValueError, '>= 1'),
    (1.5, ValueError, r'\(0, 1\]'),
    (0.0, ValueError, r'\(0, 1\]'),
    (True, TypeError, 'int'),
    ('200', TypeError, 'int'),
    (2000, ValueError, 'exceeds the pool'),
])
def test_bad_budgets_are_named(value, error, match):
    with pytest.raises(error, match=match):
        parse_budget(value, 1000)


def test_bad_schedules_are_named():
    with pytest.raises(ValueError, match='3 entries but num_rounds=2'):
        budget_schedule([1, 2, 3], 2, 100)
    with pytest.raises(ValueError, match='num_rounds is needed'):
        budget_schedule(10, None, 100)
    with pytest.raises(ValueError, match=r'budget\[1\]'):
        budget_schedule([10, -1], None, 100)
    with pytest.raises(ValueError, match='exceed the pool'):
        budget_schedule(40, 3, 100, initial=1)
    with pytest.raises(ValueError, match='empty'):
        budget_schedule([], None, 100)


def test_budget_argument_text():
    assert parse_budget_arg('200') == 200
    assert parse_budget_arg('0.05') == 0.05
    assert parse_budget_arg('100,200, 400') == [100, 200, 400]
    with pytest.raises(ValueError, match="'ten' is not a number"):
        parse_budget_arg('100,ten')


def test_label_pool_adds_saves_and_checks_ids(tmp_path):
    ids = [f's{i}' for i in range(6)]
    pool = LabelPool(ids, [4, 1])
    assert pool.labelled.tolist() == [1, 4]
    assert pool.unlabelled.tolist() == [0, 2, 3, 5]
    with pytest.raises(ValueError, match=r'already labelled'):
        pool.add([2, 4])
    with pytest.raises(IndexError, match='outside'):
        pool.add([6])
    with pytest.raises(ValueError, match='repeated'):
        pool.add([0, 0])
    pool.add([0])
    path = tmp_path / 'labelled.json'
    pool.save(str(path), round_idx=1)
    record = json.loads(path.read_text())
    assert record['labelled'] == dict(indices=[0, 1, 4],
                                      ids=['s0', 's1', 's4'])
    assert record['unlabelled']['ids'] == ['s2', 's3', 's5']
    assert LabelPool.read_labelled(str(path), ids).tolist() == [0, 1, 4]
    with pytest.raises(ValueError, match="saved as sample 's1'"):
        LabelPool.read_labelled(str(path), ['s0', 'x1', 's2', 's3', 's4'])


def test_settings_from_config_and_overrides():
    block = dict(strategy=dict(type='bald', passes=4), budget=50,
                 num_rounds=3)
    s = ActiveLearningSettings.from_config(block, seed=2, budget=None)
    assert (s.seed, s.budget, s.num_rounds) == (2, 50, 3)
    assert s.with_strategy('bald').strategy_cfg == dict(type='bald',
                                                        passes=4)
    assert s.with_strategy('entropy').strategy_cfg == dict(type='entropy')
    with pytest.raises(KeyError, match="'budgett'"):
        ActiveLearningSettings.from_config(dict(budgett=3))
    with pytest.raises(ValueError, match='reward_split must be "val"'):
        ActiveLearningSettings(reward_split='test')
    with pytest.raises(ValueError, match='checkpoint'):
        ActiveLearningSettings(checkpoint='first')


def test_normalized_auc_and_labels_to_reach():
    # Linear 50 -> 70 over 100..300 labels: mean value 60.
    assert normalized_auc([100, 200, 300], [50, 60, 70]) == pytest.approx(60)
    # Unequal steps: area (100*(50+60)/2 + 300*(60+80)/2) / 400.
    assert normalized_auc([100, 200, 500], [50, 60, 80]) == pytest.approx(
        (5500 + 21000) / 400)
    with pytest.raises(ValueError, match='increase'):
        normalized_auc([100, 100], [1, 2])
    assert labels_to_reach([100, 200, 300], [50, 75, 90], 70) == 200
    assert labels_to_reach([100, 200], [50, 60], 99) is None


def test_metric_summary_names_and_gap():
    raw = {'accuracy/top1': 90.0, 'f1/macro': 88.0, 'acc_audio_mask': 85.0,
           'acc_visual_mask': 40.0, 'shapley_share_audio': 70.0,
           'shapley_share_visual': 30.0, 'acc_audio_decomp': 1.0}
    assert summarize_metrics(raw, ('audio', 'visual')) == dict(
        top1=90.0, f1=88.0, acc_audio=85.0, acc_visual=40.0,
        share_audio=70.0, share_visual=30.0, gap=40.0)


def test_metrics_csv_round_trip(tmp_path):
    rows = [dict(round=0, num_labelled=10, test_top1=50.5),
            dict(round=1, num_labelled=20, test_top1=60.25, query_time_s=1.5)]
    write_csv(rows, str(tmp_path / 'm.csv'))
    back = read_csv(str(tmp_path / 'm.csv'))
    assert back == rows
    assert np.isclose(back[1]['query_time_s'], 1.5)


def test_round_config_wraps_the_labelled_set_and_the_schedule(tmp_path):
    from mmengine.config import Config

    from armlab.active.round_training import chosen_checkpoint, round_config
    base = Config.fromfile('configs/active_learning/'
                           'al_joint_resnet18_avdigits.py')
    cfg = round_config(base, str(tmp_path), str(tmp_path / 'l.json'),
                       num_labelled=33, seed=7, epochs=3,
                       load_from='prev.pth')
    loader = cfg.train_dataloader
    assert loader.dataset.type == 'LabelledSubset'
    assert loader.dataset.dataset.type == base.train_dataloader.dataset.type
    assert loader.drop_last  # 33 = 2 x 16 + 1: no partial batch
    # (1,250 = 78 x 16 + 2: a batch of 2 spoiled BatchNorm's statistics)
    assert round_config(base, str(tmp_path / 'b'), 'l.json', 1250, 7, None,
                        None).train_dataloader.drop_last
    small = round_config(base, str(tmp_path / 'c'), 'l.json', 12, 7, None,
                         None)
    assert 'drop_last' not in small.train_dataloader  # its only batch
    assert cfg.train_cfg.max_epochs == 3 and cfg.param_scheduler[0].end == 3
    assert (cfg.randomness.seed, cfg.load_from, cfg.resume) == (7, 'prev.pth',
                                                                False)
    assert base.train_dataloader.dataset.type == 'AVDigitsDataset'
    # An interrupted round resumes inside itself, not from the warm start.
    (tmp_path / 'last_checkpoint').write_text('x')
    cfg = round_config(base, str(tmp_path), 'l.json', 64, 7, None, 'p.pth')
    assert cfg.resume and cfg.load_from is None
    assert 'drop_last' not in cfg.train_dataloader
    # The round's model: the val-best checkpoint, else the last epoch's.
    for name in ('epoch_2.pth', 'epoch_10.pth'):
        (tmp_path / name).write_text('x')
    assert chosen_checkpoint(str(tmp_path), 'best').endswith('epoch_10.pth')
    (tmp_path / 'best_accuracy_top1_epoch_2.pth').write_text('x')
    assert chosen_checkpoint(str(tmp_path), 'best').endswith(
        'best_accuracy_top1_epoch_2.pth')
    assert chosen_checkpoint(str(tmp_path), 'last').endswith('epoch_10.pth')

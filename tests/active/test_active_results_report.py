"""The active-learning report's statistics and its committed records.

Fabricated per-round rows (no training): the areas, their sample standard
deviation and t-interval, and the paired test against the reference
strategy are checked against values computed here by hand and by scipy;
records written by ``write_run_record`` regenerate the same report with
``--report-only`` and no run dirs at all.
"""
import math

import numpy as np
import pytest
from scipy import stats

from conftest import REPO, load_tool
from helpers.committed_tables import produced_by, table_lines

from armlab.active import normalized_auc
from armlab.active.records import (read_run_record, run_record_path,
                                   write_run_record)

RESULTS = load_tool('tools/analysis/active_learning_results.py')
LABELS = [100, 200, 300]
#: strategy -> seed -> test top-1 per label count.
CURVES = {
    'random': {0: [20.0, 30.0, 40.0], 1: [22.0, 31.0, 35.0],
               2: [18.0, 33.0, 41.0]},
    'entropy': {0: [20.0, 34.0, 47.0], 1: [22.0, 30.0, 44.0],
                2: [18.0, 36.0, 45.0]},
}


def rows(values):
    return [dict(round=i, num_labelled=n, test_top1=v, test_acc_audio=v / 2,
                 test_acc_visual=v / 3, test_gap=10.0)
            for i, (n, v) in enumerate(zip(LABELS, values))]


def data():
    return {s: {seed: rows(v) for seed, v in seeds.items()}
            for s, seeds in CURVES.items()}


def test_curve_spread_is_the_sample_std():
    xs, mean, std = RESULTS.mean_std(data()['random'], 'test_top1')
    assert xs == LABELS
    final = [40.0, 35.0, 41.0]
    assert mean[-1] == pytest.approx(np.mean(final))
    assert std[-1] == pytest.approx(np.std(final, ddof=1))
    assert std[-1] != pytest.approx(np.std(final))


def test_paired_table_against_random_matches_a_paired_t_test():
    aucs = {s: [normalized_auc(LABELS, v) for v in seeds.values()]
            for s, seeds in CURVES.items()}
    lines = RESULTS.paired_table(data(), {'top-1': 'test_top1'}, 'random')
    row = next(line for line in lines if line.startswith('| entropy |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    d = np.subtract(aucs['entropy'], aucs['random'])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    p = stats.ttest_rel(aucs['entropy'], aucs['random']).pvalue
    assert cells[:3] == ['entropy', 'top-1', '3']
    mean, std = np.mean(aucs['entropy']), np.std(aucs['entropy'], ddof=1)
    assert cells[3] == f'{mean:.1f} ± {std:.1f}'
    assert cells[5] == f'{d.mean():+.1f}'
    assert cells[6] == f'[{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]'
    assert cells[7] == f'{p:.3f}'
    reference = next(line for line in lines if line.startswith('| random |'))
    assert reference.endswith('| – | – | – |')


def test_paired_table_pairs_only_the_seeds_both_ran():
    partial = data()
    del partial['entropy'][2]
    lines = RESULTS.paired_table(partial, {'top-1': 'test_top1'}, 'random')
    row = next(line for line in lines if line.startswith('| entropy |'))
    a = [normalized_auc(LABELS, CURVES['entropy'][s]) for s in (0, 1)]
    b = [normalized_auc(LABELS, CURVES['random'][s]) for s in (0, 1)]
    assert f'| {np.mean(a) - np.mean(b):+.1f} |' in row
    assert row.split('|')[3].strip() == '2'


def test_records_regenerate_the_report_without_run_dirs(tmp_path):
    runs_dir = tmp_path / 'records'
    for strategy, seeds in data().items():
        for seed, seed_rows in seeds.items():
            write_run_record(
                run_record_path(str(runs_dir), strategy, seed),
                rows=seed_rows, config='c.py', strategy=strategy, seed=seed,
                settings=dict(initial_budget=100), commit={'commit': 'x'},
                machine='m')
    record = read_run_record(run_record_path(str(runs_dir), 'entropy', 1))
    assert record['rows'] == data()['entropy'][1]
    config = REPO / 'configs' / 'active_learning' / \
        'al_joint_resnet18_avdigits-mnist-fsdd.py'
    out = tmp_path / 'report.md'
    RESULTS.main([str(config), '--strategies', 'random', 'entropy',
                  '--seeds', '0', '1', '2', '--work-root',
                  str(tmp_path / 'absent'), '--runs-dir', str(runs_dir),
                  '--report-only', '--out', str(out)])
    text = out.read_text()
    assert '## Against random' in text
    expected = RESULTS.paired_table(data(), {'top-1': 'test_top1'},
                                    'random')[2]
    assert expected in text
    assert 'Incomplete' not in text


def test_a_record_of_another_kind_is_refused_by_name(tmp_path):
    path = tmp_path / 'x.json'
    path.write_text('{"version": 1, "config": "c.py"}')
    with pytest.raises(ValueError, match='x.json.*not an active-learning'):
        read_run_record(str(path))


@pytest.mark.parametrize('table', ['active_learning.md',
                                   'active_learning_evidential.md'])
def test_the_committed_report_regenerates_from_its_committed_records(
        table, tmp_path):
    """A committed report's 'Produced by' command (with --report-only and
    --runs-dir) gives back the committed table in this checkout, where the
    run dirs do not exist."""
    committed = (REPO / 'docs' / 'results' / table).read_text()
    command = produced_by(committed)
    assert command[0] == 'tools/analysis/active_learning_results.py'
    assert '--report-only' in command and '--runs-dir' in command
    out = tmp_path / table
    command[command.index('--out') + 1] = str(out)
    command[command.index('--work-root') + 1] = str(tmp_path / 'absent')
    RESULTS.main(command[1:])
    assert table_lines(out.read_text()) == table_lines(committed)

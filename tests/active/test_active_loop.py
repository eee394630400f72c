"""The active-learning loop end to end on tiny AV-Digits.

One module-level experiment (width-4 encoders, 1 epoch per round, 12 + 2x8
labels of the 60-sample pool): an uninterrupted entropy run made by the
results script in quick mode, and the same run interrupted after round 0 and
resumed through ``tools/active_learn.py``. Both share the round 0 cached in
the work root. The tools run in this process (``main(argv)``) to spare an
import of torch and mmengine per call.
"""
import argparse
import io
import json
from contextlib import contextmanager, redirect_stdout

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction
from threadpoolctl import threadpool_limits

from conftest import LOADERS, REPO, TINY_BUILD, load_tool, tiny_options

from armlab.active import (ActiveLearningLoop, ActiveLearningSettings,
                           LabelledSubset, normalized_auc, read_csv)
from armlab.engine.launch import merge_cli_options
from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.registry import DATASETS

CONFIG = REPO / 'configs' / 'active_learning' / \
    'al_joint_resnet18_avdigits.py'
SMALL = dict(initial_budget=12, budget=8, num_rounds=2, epochs=1)
SMALL_ARGS = ['--rounds', '2', '--initial-budget', '12', '--budget', '8',
              '--epochs', '1']


def options(root) -> list:
    """tiny_options, plus two savings that change no result here: no
    val-best checkpoint (one epoch: best = last) and no dataset
    serialisation (each one runs a full gc.collect)."""
    return tiny_options(root, epochs=1) + [
        'default_hooks.checkpoint.save_best=None'] + [
        f'{loader}.dataset.serialize_data=False' for loader in LOADERS]


class Interrupted(Exception):
    """Stands in for a kill between rounds."""


def tiny_config(root) -> Config:
    cfg = Config.fromfile(str(CONFIG))
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    merge_cli_options(cfg, parser.parse_args(
        ['--o', *options(root)]).o)
    return cfg


def settings(work_root, **changes) -> ActiveLearningSettings:
    values = dict(SMALL, strategy='entropy', work_root=str(work_root))
    values.update(changes)
    return ActiveLearningSettings.from_config({}, **values)


def tool(path: str):
    """A tool's module, to call its ``main(argv)`` in this process (one
    import of torch and mmengine instead of one per tool)."""
    return load_tool(path)


@pytest.fixture(scope='module')
def runs(tiny_root, tmp_path_factory):
    """The uninterrupted run comes from the results script (quick mode);
    the interrupted one from the loop, resumed through the tool."""
    with single_threads():
        yield make_runs(tiny_root, tmp_path_factory)


@contextmanager
def single_threads():
    """One torch and one BLAS thread: on a shared 2-core machine, spinning
    threads make the tiny model about 10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api='blas'):
            yield
    finally:
        torch.set_num_threads(threads)


def make_runs(tiny_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('al')
    cfg = tiny_config(tiny_root)
    report = root / 'report' / 'al.md'
    tool('tools/analysis/active_learning_results.py').main([
        str(CONFIG), '--quick', '--strategies', 'entropy', '--seeds', '0',
        '--work-root', str(root), '--out', str(report), '--full-data-acc',
        '50', '--cfg-options', *options(tiny_root)])

    def stop(t):
        if t == 0:
            raise Interrupted

    cut = root / 'entropy_cut'
    with pytest.raises(Interrupted):
        ActiveLearningLoop(cfg, settings(root), str(cut), progress=False,
                           after_round=stop).run()
    state_at_cut = json.loads((cut / 'al_state.json').read_text())
    with redirect_stdout(io.StringIO()) as stdout:
        tool('tools/active_learn.py').main([
            str(CONFIG), '--strategy', 'entropy', '--work-dir', str(cut),
            '--resume', '--no-progress', *SMALL_ARGS, '--cfg-options',
            *options(tiny_root)])
    return dict(root=root, full=root / 'entropy_seed0', cut=cut, cfg=cfg,
                report=report, state_at_cut=state_at_cut,
                log=stdout.getvalue())


def _json(path):
    return json.loads(path.read_text())


@pytest.mark.e2e
def test_every_round_leaves_its_records(runs):
    full = runs['full']
    rows = read_csv(str(full / 'al_metrics.csv'))
    assert [r['num_labelled'] for r in rows] == [12, 20, 28]
    for key in ('val_top1', 'test_top1', 'test_f1', 'test_acc_audio',
                'test_acc_visual', 'test_share_audio', 'test_gap'):
        assert all(key in r for r in rows), key
    assert rows[0]['num_selected'] == 8 and 'query_time_s' in rows[0]
    assert (full / 'curve.png').stat().st_size > 0
    state = _json(full / 'al_state.json')
    assert state['done'] and state['next_round'] == 3
    seen = set()
    for t in range(3):
        labelled = _json(full / f'round_{t}' / 'labelled.json')
        indices = labelled['labelled']['indices']
        assert len(indices) == 12 + 8 * t
        assert labelled['labelled']['ids'] == [
            f'train_{i:06d}' for i in indices]
        assert len(labelled['unlabelled']['indices']) == 60 - len(indices)
        assert seen <= set(indices)
        seen = set(indices)
        metrics = _json(full / f'round_{t}' / 'metrics.json')
        assert (full / f'round_{t}' / metrics['checkpoint']).is_file()
        # Once the round is done only its model file stays.
        models = list((full / f'round_{t}').glob('epoch_*.pth')) + list(
            (full / f'round_{t}').glob('best_*.pth'))
        assert [p.name for p in models] == [metrics['checkpoint']]
        assert not (full / f'round_{t}' / 'last_checkpoint').exists()
        assert 'accuracy/top1' in metrics['val_raw']
        assert 'shapley_share_visual' in metrics['test_raw']
    assert set(state['labelled']) == seen
    for t in range(2):
        selection = _json(full / f'round_{t}' / 'selection.json')
        assert len(selection['indices']) == 8
        assert not set(selection['indices']) & set(_json(
            full / f'round_{t}' / 'labelled.json')['labelled']['indices'])
        assert sum(selection['class_histogram'].values()) == 8
        assert sum(selection['dominant_modality_histogram'].values()) == 8
        assert selection['query_time_s'] >= 0
    assert not (full / 'round_2' / 'selection.json').exists()


def test_round0_is_computed_once_and_shared(runs):
    cache = runs['root'] / 'round0_seed0'
    assert (cache / 'round0.json').is_file()
    for name in ('labelled.json', 'metrics.json'):
        assert _json(runs['full'] / 'round_0' / name) == \
            _json(runs['cut'] / 'round_0' / name) == _json(cache / name)
    assert not list(runs['root'].glob('round0_seed0.tmp-*'))


def test_resume_gives_the_uninterrupted_selection(runs):
    assert runs['state_at_cut']['next_round'] == 1
    assert 'active learning done' in runs['log']
    full, cut = runs['full'], runs['cut']
    assert _json(cut / 'round_1' / 'selection.json')['indices'] == \
        _json(full / 'round_1' / 'selection.json')['indices']
    assert _json(cut / 'al_state.json')['labelled'] == \
        _json(full / 'al_state.json')['labelled']
    cut_rows = read_csv(str(cut / 'al_metrics.csv'))
    full_rows = read_csv(str(full / 'al_metrics.csv'))
    assert [r['test_top1'] for r in cut_rows] == \
        [r['test_top1'] for r in full_rows]


def test_a_run_is_never_silently_overwritten_or_changed(runs):
    cfg, root = runs['cfg'], runs['root']
    with pytest.raises(FileExistsError, match='--resume'):
        ActiveLearningLoop(cfg, settings(root), str(runs['full']),
                           progress=False).run()
    with pytest.raises(ValueError, match='budgets'):
        ActiveLearningLoop(cfg, settings(root, budget=4),
                           str(runs['full']), progress=False).run(
                               resume=True)
    # A finished run resumes to nothing.
    rows = ActiveLearningLoop(cfg, settings(root), str(runs['full']),
                              progress=False).run(resume=True)
    assert len(rows) == 3


def test_round0_cache_refuses_other_settings(runs, tmp_path):
    other = settings(runs['root'], initial_budget=10, budget=5)
    with pytest.raises(ValueError, match='initial'):
        ActiveLearningLoop(runs['cfg'], other, str(tmp_path / 'run'),
                           progress=False).run()


def test_results_report_tabulates_the_runs(runs):
    text = runs['report'].read_text()
    assert '| entropy | 1 |' in text
    assert 'AUC top-1' in text and 'labels to 90% of 50' in text
    assert (runs['report'].parent / 'al.png').stat().st_size > 0
    rows = read_csv(str(runs['full'] / 'al_metrics.csv'))
    auc = normalized_auc([12, 20, 28], [r['test_top1'] for r in rows])
    assert f'| entropy | {auc:.1f} |' in text
    cells = ' | '.join(f"{r['test_top1']:.1f}" for r in rows)
    assert f'| entropy | 1 | {cells} |' in text
    # Cost columns: each run's own recorded seconds per round (the last
    # round makes no pool pass and no query).
    train, pool, query = (np.mean([r[k] for r in rows if k in r]) for k in (
        'train_time_s', 'pool_pass_time_s', 'query_time_s'))
    entropy_row = next(line for line in text.splitlines()
                       if line.startswith(f'| entropy | {auc:.1f} |'))
    assert entropy_row.endswith(f'| {train:.0f} | {pool:.0f} | {query:.2f} |')
    assert 'min of training, pool passes and queries recorded' in text


def test_report_only_reuses_the_runs_and_says_it_trained_nothing(runs,
                                                                   tiny_root):
    """--report-only tabulates finished runs without training, and its
    header must not claim run time it did not spend."""
    first = runs['report'].read_text()
    assert 'min for the runs made by this call' in first
    again = runs['root'] / 'report_only' / 'al.md'
    tool('tools/analysis/active_learning_results.py').main([
        str(CONFIG), '--quick', '--strategies', 'entropy', '--seeds', '0',
        '--work-root', str(runs['root']), '--out', str(again),
        '--full-data-acc', '50', '--report-only',
        '--cfg-options', *options(tiny_root)])
    text = again.read_text()
    assert 'this call ran nothing (--report-only)' in text
    assert 'min for the runs made by this call' not in text
    row = [x for x in first.splitlines() if x.startswith('| entropy | 1 |')]
    assert row and row[0] in text


def test_runs_dir_keeps_each_finished_run_as_a_record(runs, tiny_root):
    """--runs-dir exports the finished run's rows with its commit and
    settings, and the report made from the record equals the one made
    from the run dir."""
    records = runs['root'] / 'records'
    out = runs['root'] / 'from_records' / 'al.md'
    tool('tools/analysis/active_learning_results.py').main([
        str(CONFIG), '--quick', '--strategies', 'entropy', '--seeds', '0',
        '--work-root', str(runs['root']), '--out', str(out),
        '--full-data-acc', '50', '--report-only', '--runs-dir',
        str(records), '--cfg-options', *options(tiny_root)])
    record = _json(records / 'entropy_seed0.json')
    assert record['rows'] == read_csv(str(runs['full'] / 'al_metrics.csv'))
    assert record['settings']['initial_budget'] == 12
    assert len(record['commit']) == 40 and record['seed'] == 0
    row = [x for x in runs['report'].read_text().splitlines()
           if x.startswith('| entropy | 1 |')]
    assert row and row[0] in out.read_text()


def test_labelled_subset_keeps_the_original_samples(tiny_root):
    cfg = tiny_config(tiny_root)
    dataset = DATASETS.build(train_eval_loader_cfg(cfg)['dataset'])
    subset = LabelledSubset(dataset, indices=[7, 3])
    assert len(subset) == 2 and subset.metainfo == dataset.metainfo
    item = subset[0]
    direct = dataset[7]
    assert item['data_samples'].sample_idx == 7
    for m in ('audio', 'visual'):
        torch.testing.assert_close(item['inputs'][m], direct['inputs'][m])
    assert subset.get_gt_labels().tolist() == \
        dataset.get_gt_labels()[[7, 3]].tolist()
    masked = subset[(1, (True, False))]
    assert masked['data_samples'].sample_idx == 3
    assert masked['data_samples'].modality_mask.tolist() == [True, False]
    with pytest.raises(IndexError, match='outside'):
        LabelledSubset(dataset, indices=[TINY_BUILD['num_train']])
    assert np.array_equal(subset.indices, [7, 3])

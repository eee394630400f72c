"""tools/analysis/{plot_curves,confusion_matrix,report}.py and
armlab.visualization.

Two tiny trainings in all (module fixtures): joint training for 2 epochs and
OGM-GE for 1 epoch (so that a balancer's scalar family is present). The
session merging is checked on hand-written work dirs.
"""
import ast
import json
import os
import re
import runpy
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, TINY_BUILD, tiny_options

from armlab.visualization import (confusions_from_predictions, family_of,
                                  load_predictions, load_run, summarise,
                                  write_report)

JOINT = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
OGM = REPO / 'configs' / 'ogm_ge' / 'ogm-ge_resnet18_avdigits.py'
MODALITIES = ('audio', 'visual')


def run_tools(*commands):
    """Run several ``python ARGS`` commands at once, one thread each (the
    two cores of a test machine), as conftest's run_tool runs one; return
    their stdouts."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, *map(str, args)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for args in commands]
    outputs = [proc.communicate(timeout=900) for proc in procs]
    for args, proc, (_, err) in zip(commands, procs, outputs):
        if proc.returncode != 0:
            raise AssertionError(f'{args} failed:\n{err[-4000:]}')
    return [out for out, _ in outputs]


@pytest.fixture(scope='module')
def trained(tiny_root, tmp_path_factory):
    """Joint training for 2 epochs and OGM-GE for 1, side by side."""
    joint = tmp_path_factory.mktemp('joint')
    ogm = tmp_path_factory.mktemp('ogm')
    run_tools(*[('tools/train.py', config, '--work-dir', work,
                 '--cfg-options', *tiny_options(tiny_root, epochs=epochs))
                for config, work, epochs in ((JOINT, joint, 2), (OGM, ogm, 1))])
    return joint, ogm


@pytest.fixture(scope='module')
def joint_run(trained):
    return trained[0]


@pytest.fixture(scope='module')
def ogm_run(trained):
    return trained[1]


def run_cli(monkeypatch, tool, *args):
    """Run a matplotlib-only CLI in this process (no torch start-up)."""
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args)])
    monkeypatch.setattr(sys, 'path', list(sys.path))  # the tool prepends
    runpy.run_path(str(REPO / tool), run_name='__main__')


def raw_rows(work_dir):
    """The scalars file of a one-session work dir, read without armlab."""
    (path, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    return [json.loads(line) for line in path.read_text().splitlines()]


def best_checkpoint(work_dir):
    (path, ) = Path(work_dir).glob('best_accuracy_top1_epoch_*.pth')
    return path


@pytest.fixture(scope='module')
def evaluated(joint_run, tiny_root, tmp_path_factory):
    """The joint run's best checkpoint through tools/test.py --out and
    through confusion_matrix.py (default output folder: inside the work dir,
    where report.py finds it), side by side."""
    tested = tmp_path_factory.mktemp('tested')
    test_out, _ = run_tools(
        ('tools/test.py', JOINT, best_checkpoint(joint_run), '--split',
         'test', '--work-dir', tested, '--out', tested / 'preds.pkl',
         '--cfg-options', *tiny_options(tiny_root)),
        ('tools/analysis/confusion_matrix.py', JOINT,
         best_checkpoint(joint_run), '--cfg-options',
         *tiny_options(tiny_root)))
    line = [x for x in test_out.splitlines()
            if x.startswith('test metrics:')][-1]
    logged = ast.literal_eval(line.split(':', 1)[1].strip())
    out = joint_run / 'confusion_test'
    return dict(logged=logged, predictions=tested / 'preds.pkl', out=out,
                summary=json.loads((out / 'confusion.json').read_text()))


# -- training curves ----------------------------------------------------------
def test_plot_curves_draws_one_panel_per_scalar_family(ogm_run, tmp_path,
                                                      monkeypatch):
    run_cli(monkeypatch, 'tools/analysis/plot_curves.py', ogm_run, '--out',
            tmp_path)
    for png in ('train_curves.png', 'epoch_curves.png'):
        assert (tmp_path / png).stat().st_size > 10_000
    figures = json.loads((tmp_path / 'curves.json').read_text())['figures']
    rows = raw_rows(ogm_run)
    for png, is_train in (('train_curves.png', True),
                          ('epoch_curves.png', False)):
        logged = {k for r in rows if ('iter' in r) == is_train for k in r
                  } - {'step', 'epoch', 'iter'}
        shown = [k for keys in figures[png].values() for k in keys]
        assert sorted(shown) == sorted(logged)  # every scalar, exactly once
        for family, keys in figures[png].items():
            if '*' in family:  # a family is its keys with modalities starred
                assert {family.replace('*', m) for m in MODALITIES} == \
                    set(keys)
    train, epoch = figures['train_curves.png'], figures['epoch_curves.png']
    assert train['ogm_coeff_*'] == ['ogm_coeff_audio', 'ogm_coeff_visual']
    assert train['loss'] == ['loss', 'loss_cls']
    assert epoch['accuracy'] == ['acc_audio_mask', 'acc_visual_mask',
                                 'accuracy/top1']
    assert epoch['shapley_share_*'] == ['shapley_share_audio',
                                        'shapley_share_visual']


def test_family_names_star_whole_modality_names_only():
    modalities = ['audio', 'audio_spec', 'visual']
    assert family_of('acc_audio_spec_mask', modalities) == 'accuracy'
    assert family_of('arm_weight_audio_spec', modalities) == 'arm_weight_*'
    assert family_of('arm/cmi_visual', modalities) == 'arm/cmi_*'
    assert family_of('audiovisual_gap', modalities) == 'audiovisual_gap'
    assert family_of('loss_pmr_visual', modalities) == 'loss'


# -- confusion matrices -------------------------------------------------------
def test_confusion_matrix_agrees_with_tools_test(evaluated):
    summary, logged, out = (evaluated[k] for k in ('summary', 'logged',
                                                   'out'))
    matrices = summary['matrices']
    assert set(matrices) == {'fused', 'audio_mask', 'visual_mask'}
    assert summary['classes'][0] == 'zero' and len(summary['classes']) == 10
    for name, key in (('fused', 'accuracy/top1'),
                      ('audio_mask', 'acc_audio_mask'),
                      ('visual_mask', 'acc_visual_mask')):
        matrix = np.array(matrices[name]['matrix'])
        assert matrix.shape == (10, 10)
        assert matrix.sum() == TINY_BUILD['num_test']
        assert np.trace(matrix) / matrix.sum() * 100 == \
            pytest.approx(logged[key], abs=1e-4)
        csv_rows = (out / f'confusion_{name}.csv').read_text().splitlines()
        assert np.array([r.split(',')[1:] for r in csv_rows[1:]],
                        dtype=int).tolist() == matrix.tolist()
        assert (out / f'confusion_{name}.png').stat().st_size > 5_000
    # tools/test.py --out gives the same matrices without running the model
    from_pickle = confusions_from_predictions(
        load_predictions(str(evaluated['predictions'])))
    assert {k: v.tolist() for k, v in from_pickle.items()} == \
        {k: v['matrix'] for k, v in matrices.items()}


# -- report ------------------------------------------------------------------
def table(markdown, heading='## Summary'):
    """The first markdown table after ``heading``: a list of dicts."""
    lines = markdown.split(heading, 1)[1].strip().splitlines()
    rows = []
    for line in lines:
        if not line.startswith('|'):
            break
        rows.append(line)
    cells = [[c.strip() for c in r.strip('|').split('|')] for r in rows]
    return [dict(zip(cells[0], r)) for r in cells[2:]]


def test_report_summarises_both_runs(joint_run, ogm_run, evaluated,
                                     tmp_path, monkeypatch):
    out = tmp_path / 'report'
    run_cli(monkeypatch, 'tools/analysis/report.py', joint_run, ogm_run,
            '--out', out)
    markdown = (out / 'report.md').read_text()
    summary = {r['run']: r for r in table(markdown)}
    assert set(summary) == {joint_run.name, ogm_run.name}
    for work, config in ((joint_run, JOINT), (ogm_run, OGM)):
        val = [r for r in raw_rows(work) if 'accuracy/top1' in r]
        top1 = [r['accuracy/top1'] for r in val]
        best = val[int(np.argmax(top1))]
        row = summary[work.name]
        assert row['config'] == config.stem and row['seed'] == '0'
        assert row['epochs'] == str(len(val))
        assert row['best val top-1'] == f'{max(top1):.2f}'
        assert row['best epoch'] == str(best['step'])
        assert row['last val top-1'] == f'{top1[-1]:.2f}'
        for m in MODALITIES:
            assert row[f'{m} masked (val)'] == f'{best[f"acc_{m}_mask"]:.2f}'
            assert row[f'{m} Shapley share (val)'] == \
                f'{best[f"shapley_share_{m}"]:.2f}'
        float(row['s / epoch'])  # timed from the log (exact: see below)
        assert f'## {work.name}' in markdown
    test_top1 = evaluated['logged']['accuracy/top1']
    assert summary[joint_run.name]['test top-1'] == f'{test_top1:.2f}'
    assert summary[ogm_run.name]['test top-1'] == '–'  # never tested
    exact = {s['run']: s for s in json.loads(
        (out / 'summary.json').read_text())}
    assert exact[ogm_run.name]['last_val_top1'] == top1[-1]
    # every figure the page shows was written, the overlay and the joint
    # run's confusion matrices included
    images = re.findall(r'!\[[^\]]*\]\(([^)]+)\)', markdown)
    assert 'val_accuracy_overlay.png' in images
    assert any('confusion_fused' in i for i in images)
    assert sum('curves.png' in i for i in images) == 4
    for image in images:
        assert (out / image).stat().st_size > 5_000


# -- work dirs: sessions, resumes, errors -------------------------------------
def write_session(work, ts, rows, log=()):
    folder = work / ts
    (folder / 'vis_data').mkdir(parents=True)
    (folder / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows))
    start = datetime(2026, 1, 1, 12)
    (folder / f'{ts}.log').write_text('\n'.join(
        f'{start + timedelta(seconds=s):%Y/%m/%d %H:%M:%S} - mmengine - INFO'
        f' - {msg}' if s is not None else msg for s, msg in log))


def it(epoch, step, loss):
    return dict(loss=loss, epoch=epoch, iter=step, step=step)


def val(epoch, acc):
    return {'accuracy/top1': acc, 'step': epoch}


def test_sessions_resumed_runs_merge_by_step_latest_run_by_default(tmp_path):
    # run 1: crashed in epoch 2 after saving epoch 1 ...
    write_session(tmp_path, '20260101_120000',
                  [it(1, 1, 9.), it(1, 2, 8.), val(1, 10.), it(2, 3, 7.)])
    # ... resumed from epoch 1: epoch 2 redone, then epoch 3
    write_session(tmp_path, '20260101_130000',
                  [it(2, 3, 6.), it(2, 4, 5.), val(2, 20.), it(3, 5, 4.),
                   it(3, 6, 3.), val(3, 30.)],
                  log=[(0, 'Config:'), (None, '    seed: 7'),
                       (1, 'resumed epoch: 1, iter: 2'),
                       (2, 'Checkpoints will be saved to x.'),
                       (5, 'Epoch(train) [2][1/2]  lr: 1e-3'),
                       (12, 'Epoch(train) [2][2/2]  lr: 1e-3'),
                       (22, 'Epoch(train) [3][2/2]  lr: 1e-3'),
                       (23, 'Exp name: my_config_20260101_130000')])
    # run 2: a fresh start in the same work dir
    write_session(tmp_path, '20260101_140000', [it(1, 1, 1.), val(1, 50.)])

    latest = load_run(tmp_path)
    assert latest.timestamps == ['20260101_140000']
    assert latest.epoch_series('accuracy/top1') == ([1], [50.])

    for chosen in (load_run(tmp_path, '20260101_120000'),
                   load_run(tmp_path / '20260101_130000')):
        assert chosen.timestamps == ['20260101_120000', '20260101_130000']
        assert chosen.epoch_series('accuracy/top1') == ([1, 2, 3],
                                                        [10., 20., 30.])
        steps = [(r['step'], r['loss']) for r in chosen.rows if 'iter' in r]
        assert steps == [(1, 9.), (2, 8.), (3, 6.), (4, 5.), (5, 4.),
                         (6, 3.)]  # epoch 2 once, from the resumed session
        assert chosen.seed == '7' and chosen.config_name == 'my_config'
        assert chosen.seconds_per_epoch == pytest.approx(10.0)  # (22-2)/2

    with pytest.raises(ValueError, match='20250101_000000.*20260101_120000'):
        load_run(tmp_path, '20250101_000000')


def test_summary_reads_modalities_at_the_best_epoch(tmp_path):
    rows = [{'accuracy/top1': acc, 'acc_audio_mask': audio,
             'shapley_share_audio': share, 'step': epoch}
            for epoch, acc, audio, share in ((1, 50., 40., 70.),
                                             (2, 80., 60., 65.),
                                             (3, 70., 55., 60.))]
    write_session(tmp_path, '20260101_120000', [it(1, 1, 2.)] + rows)
    summary = summarise(load_run(tmp_path))
    assert summary['modalities'] == ['audio']  # no config: from the keys
    assert (summary['best_epoch'], summary['best_val_top1'],
            summary['last_val_top1']) == (2, 80., 70.)
    assert summary['val_acc_audio_mask'] == 60.
    assert summary['val_shapley_share_audio'] == 65.
    assert 'test_top1' not in summary


def test_work_dir_without_scalars_is_a_clear_error(joint_run, tmp_path,
                                                   monkeypatch):
    test_only = tmp_path / 'tested'
    (test_only / '20260101_120000').mkdir(parents=True)
    (test_only / '20260101_120000' / '20260101_120000.json').write_text('{}')
    with pytest.raises(FileNotFoundError) as error:
        run_cli(monkeypatch, 'tools/analysis/plot_curves.py', test_only)
    message = str(error.value)
    assert str(test_only) in message
    assert 'vis_data/scalars.json' in message and 'tools/train.py' in message
    assert 'only test sessions: 20260101_120000' in message
    with pytest.raises(FileNotFoundError, match='nope.*not found'):
        write_report([joint_run, tmp_path / 'nope'], str(tmp_path / 'out'))

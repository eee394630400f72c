"""One markdown page about a set of training runs.

For every run: a row of the summary table (best and last validation top-1,
test top-1 where a ``tools/test.py`` session on the test split lies in the
work dir, per-modality masked accuracy and Shapley share at the best
validation epoch, seconds per epoch, config, seed), and a section with its
training curves, its confusion matrices (those ``confusion_matrix.py`` left
in the work dir, or computed with ``compute_confusion``) and its validation
metrics per epoch. One plot overlays the runs' fused validation accuracy.
"""
import json
import os
import os.path as osp
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from .confusion import (confusions_from_predictions, predict_split,
                        save_confusions)
from .curves import plot_curves, plot_overlay
from .workdir import TrainingRun, find_test_results, load_run

FUSED = 'accuracy/top1'


def _at(run: TrainingRun, key: str, epoch) -> Optional[float]:
    epochs, values = run.epoch_series(key)
    return dict(zip(epochs, values)).get(epoch)


def latest_test(work_dir) -> Optional[dict]:
    """The latest test session on the test split (split unknown counts)."""
    results = [r for r in find_test_results(work_dir)
               if FUSED in r['metrics'] and
               (r['split'] is None or 'test' in str(r['split']))]
    return results[-1] if results else None


def summarise(run: TrainingRun) -> dict:
    """The summary values of one run (accuracies in %)."""
    epochs, top1 = run.epoch_series(FUSED)
    out = dict(run=run.name, work_dir=str(run.work_dir),
               timestamps=run.timestamps, config=run.config_name,
               seed=run.seed, epochs=len(epochs),
               seconds_per_epoch=run.seconds_per_epoch)
    modalities = run.modalities
    out['modalities'] = modalities
    if epochs:
        best = epochs[int(np.argmax(top1))]
        out.update(best_epoch=best, best_val_top1=max(top1),
                   last_val_top1=top1[-1])
        for m in modalities:
            out[f'val_acc_{m}_mask'] = _at(run, f'acc_{m}_mask', best)
            out[f'val_shapley_share_{m}'] = _at(run, f'shapley_share_{m}',
                                                best)
    test = latest_test(run.work_dir)
    if test is not None:
        out.update(test_top1=test['metrics'][FUSED],
                   test_checkpoint=test['checkpoint'],
                   test_session=test['dir'])
        for m in modalities:
            out[f'test_acc_{m}_mask'] = test['metrics'].get(f'acc_{m}_mask')
    return out


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return '–'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def summary_table(summaries: List[dict]) -> List[str]:
    modalities: List[str] = []
    for s in summaries:
        modalities += [m for m in s['modalities'] if m not in modalities]
    head = (['run', 'config', 'seed', 'epochs', 'best val top-1',
             'best epoch', 'last val top-1', 'test top-1'] +
            [f'{m} masked (val)' for m in modalities] +
            [f'{m} Shapley share (val)' for m in modalities] + ['s / epoch'])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for s in summaries:
        cells = [s['run'], s['config'], s['seed'], s['epochs'],
                 s.get('best_val_top1'), s.get('best_epoch'),
                 s.get('last_val_top1'), s.get('test_top1')]
        cells += [s.get(f'val_acc_{m}_mask') for m in modalities]
        cells += [s.get(f'val_shapley_share_{m}') for m in modalities]
        lines.append('| ' + ' | '.join(fmt(c) for c in cells) + ' | ' +
                     fmt(s['seconds_per_epoch'], digits=1) + ' |')
    return lines


def epoch_table(run: TrainingRun, modalities: Sequence[str]) -> List[str]:
    """Validation metrics per epoch (fused, masked, Shapley shares)."""
    keys = [FUSED] + [f'acc_{m}_mask' for m in modalities] + \
        [f'shapley_share_{m}' for m in modalities]
    columns = {k: dict(zip(*run.epoch_series(k))) for k in keys}
    epochs = sorted(columns[FUSED])
    if not epochs:
        return ['No validation accuracy was logged (trained with '
                '--no-validate?).']
    lines = ['| epoch | ' + ' | '.join(keys) + ' |',
             '|---|' + '---|' * len(keys)]
    for e in epochs:
        lines.append(f'| {fmt(e)} | ' +
                     ' | '.join(fmt(columns[k].get(e)) for k in keys) + ' |')
    return lines


def find_confusions(work_dir) -> List[Path]:
    """``confusion.json`` files that confusion_matrix.py left in a work dir."""
    return sorted(Path(work_dir).glob('*/confusion.json'))


def best_checkpoint(work_dir) -> Path:
    """The best-validation checkpoint, else the latest epoch checkpoint."""
    work_dir = Path(work_dir)
    best = sorted(work_dir.glob('best_*.pth'))
    if best:
        return best[-1]
    epochs = sorted(work_dir.glob('epoch_*.pth'),
                    key=lambda p: int(re.sub(r'\D', '', p.stem) or 0))
    if not epochs:
        raise FileNotFoundError(f'{work_dir}: no best_*.pth or epoch_*.pth '
                                'checkpoint to compute a confusion matrix')
    return epochs[-1]


def compute_confusion(run: TrainingRun, split: str = 'test',
                      cfg_options: Optional[dict] = None) -> Path:
    """Confusion matrices of the run's best checkpoint on ``split``, with the
    config the run dumped; written to ``<work_dir>/confusion_<split>``."""
    if run.config_path is None:
        raise FileNotFoundError(f'{run.work_dir}: no vis_data/config.py in '
                                f'session {run.timestamps[-1]}')
    out = run.work_dir / f'confusion_{split}'
    predictions, _, classes = predict_split(
        str(run.config_path), str(best_checkpoint(run.work_dir)), str(out),
        split, dict(cfg_options or {}, resume=False))
    save_confusions(confusions_from_predictions(predictions), str(out),
                    classes, run.name)
    return out / 'confusion.json'


def _slug(name: str) -> str:
    return re.sub(r'[^\w.-]+', '_', name)


def unique_names(runs: Sequence[TrainingRun]) -> List[str]:
    """The shortest path tails that tell the work dirs apart
    (``arm/seed0``, ``joint/seed0`` rather than ``seed0`` twice)."""
    parts = [run.work_dir.resolve().parts for run in runs]
    for k in range(1, max(len(p) for p in parts) + 1):
        names = ['/'.join(p[-k:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [f'{n}-{i}' for i, n in enumerate(names)]  # a work dir twice


def write_report(work_dirs: Sequence[str], out_dir: str,
                 confusion: bool = False, split: str = 'test',
                 command: str = '') -> str:
    """Write ``out_dir/report.md``, its PNGs and ``summary.json``."""
    os.makedirs(out_dir, exist_ok=True)
    runs = [load_run(w) for w in work_dirs]
    names = unique_names(runs)
    if confusion:  # first, so that the test session it leaves is summarised
        for run in runs:
            if not find_confusions(run.work_dir):
                compute_confusion(run, split)
    summaries = []
    for run, name in zip(runs, names):
        summary = summarise(run)
        summary['run'] = name
        summaries.append(summary)
    overlay = 'val_accuracy_overlay.png'
    plot_overlay(runs, FUSED, osp.join(out_dir, overlay), names,
                 'validation top-1 (%)', 'Fused validation accuracy')
    lines = ['# Training report', '']
    if command:
        lines += [f'Produced by `{command}` on '
                  f'{datetime.now():%Y-%m-%d %H:%M}.', '']
    lines += ['## Summary', ''] + summary_table(summaries) + [
        '', 'Accuracies in %. Best epoch: the highest fused validation '
        'top-1 (the checkpoint that `save_best` keeps); the per-modality '
        'columns are taken there: masked = the fused head with only that '
        'modality present, Shapley share = |φ_m| / Σ|φ| of the validation '
        'accuracy game. Test top-1: the latest `tools/test.py` session on '
        'the test split found in the work dir (checkpoint named in the '
        "run's section). s / epoch: training wall time per epoch from the "
        'log, validation included.', '',
        f'![fused validation accuracy]({overlay})', '']
    for run, name, summary in zip(runs, names, summaries):
        lines += run_section(run, name, summary, out_dir)
    path = osp.join(out_dir, 'report.md')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    with open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summaries, f, indent=1)
    return path


def run_section(run: TrainingRun, name: str, summary: dict,
                out_dir: str) -> List[str]:
    slug = _slug(name)
    sessions = ', '.join(
        s.timestamp + (' (resumed)' if s.resumed_from else '')
        for s in run.sessions)
    lines = [f'## {name}', '',
             f'- work dir: `{run.work_dir}`; sessions: {sessions}',
             f'- config: {fmt(summary["config"])}; seed: '
             f'{fmt(summary["seed"])}']
    if 'test_top1' in summary:
        lines.append(f'- test top-1 {fmt(summary["test_top1"])} '
                     f'(checkpoint `{summary["test_checkpoint"]}`, session '
                     f'`{summary["test_session"]}`)')
    lines += ['', '### Curves', '']
    for figure, path in plot_curves(run, out_dir, slug + '_', name).items():
        lines += [f'![{name} {figure}]({osp.basename(path)})', '']
    files = find_confusions(run.work_dir)
    if files:
        lines += ['### Confusion matrices', '']
    for json_file in files:
        data = json.loads(json_file.read_text())
        lines += [f'From `{json_file.parent}`:', '']
        for matrix, info in data['matrices'].items():
            target = f'{slug}_{json_file.parent.name}_confusion_{matrix}.png'
            source = json_file.parent / f'confusion_{matrix}.png'
            if source.is_file():
                shutil.copyfile(source, osp.join(out_dir, target))
                lines += [f'![{name} {matrix}]({target})', '']
            lines += [f'{matrix}: top-1 {fmt(info["accuracy"])}% of '
                      f'{info["total"]} samples', '']
    lines += ['### Validation per epoch', ''] + \
        epoch_table(run, summary['modalities']) + ['']
    return lines

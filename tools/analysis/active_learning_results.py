"""Compare acquisition strategies over seeds: learning curves and their areas.

Every (strategy, seed) run is an ``ActiveLearningLoop`` in
``<work-root>/<strategy>_seed<S>``; the runs of a seed share one round 0
(``<work-root>/round0_seed<S>``), and a finished run is read back instead of
re-run (an unfinished one resumes). The report gives, per strategy, mean ±
std over seeds of the test accuracies (fused, masked per modality) and of the
contribution gap at each label count, the normalised area under each curve
(trapezoid over the label range, in %), and the labels needed to reach X %
of the full-data accuracy (``--full-data-acc``, read off the mean curve).

Usage::

    python tools/analysis/active_learning_results.py \
        configs/active_learning/al_joint_resnet18_avdigits.py \
        --seeds 0 1 2 --work-root work_dirs/al_avdigits \
        --full-data-acc 99.1 --out docs/results/active_learning.md

``--quick`` is a smoke test (2 rounds of 8 labels after 12, 1 epoch, width-4
encoders); point it at a small build with ``--cfg-options``.
"""
import argparse
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction

from armlab.active import (ActiveLearningLoop, ActiveLearningSettings,
                           labels_to_reach, normalized_auc, read_csv)
from armlab.active.curves import plot_curves
from armlab.active.records import read_json
from armlab.engine.launch import merge_cli_options
from armlab.models.classifiers.multimodal import configured_modalities
from armlab.utils import limit_blas_threads, register_all_modules

CLASSICAL = ('random', 'entropy', 'margin', 'least_confidence', 'bald',
             'coreset', 'kmeans', 'badge', 'bmmal')
QUICK = dict(initial_budget=12, budget=8, num_rounds=2, epochs=1)
#: Cost columns of the AUC table: header -> (al_metrics.csv key, decimals).
COST_COLUMNS = {'train s / round': ('train_time_s', 0),
                'pool pass s / round': ('pool_pass_time_s', 0),
                'query s / round': ('query_time_s', 2)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--strategies', nargs='+', default=list(CLASSICAL))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-root', default=None,
                        help='default: work_dirs/active_learning/<config>')
    parser.add_argument('--out', help='markdown report (default: '
                        'docs/results/active_learning.md; with --quick: '
                        '<work-root>/active_learning_quick.md); the figure '
                        'goes beside it as .png')
    parser.add_argument('--full-data-acc', type=float,
                        help='test top-1 (%%) of the same model trained on '
                        'every label, for the labels-to-reach columns')
    parser.add_argument('--targets', nargs='+', type=float,
                        default=[0.9, 0.95, 0.98],
                        help='fractions of --full-data-acc to reach')
    parser.add_argument('--report-only', action='store_true',
                        help='run nothing; tabulate the finished runs')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: tiny budgets, 1 epoch, width-4 '
                        'encoders')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def load_config(args) -> Config:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    if args.quick:
        for encoder in cfg.model.encoders.values():
            if 'base_channels' in encoder:
                encoder['base_channels'] = 4
    return cfg


def settings_for(cfg: Config, args, strategy: str, seed: int,
                 work_root: str) -> ActiveLearningSettings:
    block = cfg.get('active_learning') or {}
    block = block.to_dict() if hasattr(block, 'to_dict') else dict(block)
    overrides = dict(QUICK) if args.quick else {}
    settings = ActiveLearningSettings.from_config(
        block, seed=seed, work_root=work_root, round0_from=None, **overrides)
    return settings.with_strategy(strategy)


def run_all(cfg: Config, args, work_root: str) -> Dict[str, Dict[int, str]]:
    """Run (or read back) every strategy for every seed; run dirs."""
    runs: Dict[str, Dict[int, str]] = {s: {} for s in args.strategies}
    for seed in args.seeds:
        for strategy in args.strategies:
            work_dir = osp.join(work_root, f'{strategy}_seed{seed}')
            runs[strategy][seed] = work_dir
            if args.report_only:
                continue
            settings = settings_for(cfg, args, strategy, seed, work_root)
            ActiveLearningLoop(cfg, settings, work_dir).run(resume=True)
    return runs


def read_runs(runs: Dict[str, Dict[int, str]]):
    """Strategy -> the metric rows of each seed's run, and notes on the
    runs that are missing or unfinished."""
    out, notes = {}, []
    for strategy, by_seed in runs.items():
        rows = []
        for seed, work_dir in sorted(by_seed.items()):
            path = osp.join(work_dir, 'al_metrics.csv')
            if not osp.isfile(path):
                notes.append(f'{strategy} seed {seed}: no run')
                continue
            rows.append(read_csv(path))
            state = osp.join(work_dir, 'al_state.json')
            if not (osp.isfile(state) and read_json(state).get('done')):
                notes.append(f'{strategy} seed {seed}: unfinished '
                             f'({len(rows[-1])} rounds)')
        if rows:
            out[strategy] = rows
    return out, notes


def curve(rows: List[Dict], key: str):
    points = [(r['num_labelled'], r[key]) for r in rows if key in r]
    return [p[0] for p in points], [p[1] for p in points]


def mean_std(seed_rows: List[List[Dict]], key: str):
    """Label counts and mean, std over seeds (runs must share the counts;
    a run with fewer finished rounds is cut to the common prefix)."""
    curves = [curve(rows, key) for rows in seed_rows]
    curves = [c for c in curves if c[0]]
    if not curves:
        return [], np.zeros(0), np.zeros(0)
    length = min(len(c[0]) for c in curves)
    labels = curves[0][0][:length]
    for c in curves:
        if c[0][:length] != labels:
            raise ValueError(f'runs disagree on label counts for {key}: '
                             f'{labels} vs {c[0][:length]}')
    values = np.array([c[1][:length] for c in curves], dtype=np.float64)
    return labels, values.mean(0), values.std(0)


def fmt(mean: float, std: float, num: int) -> str:
    return f'{mean:.1f} ± {std:.1f}' if num > 1 else f'{mean:.1f}'


def curve_table(data: Dict[str, List], key: str, title: str) -> List[str]:
    labels = sorted({n for seeds in data.values() for rows in seeds
                     for n in curve(rows, key)[0]})
    if not labels:
        return []
    lines = [f'### {title}', '',
             '| strategy | seeds | ' + ' | '.join(map(str, labels)) + ' |',
             '|---|---|' + '---|' * len(labels)]
    for strategy, seeds in data.items():
        xs, mean, std = mean_std(seeds, key)
        cells = {x: fmt(m, s, len(seeds)) for x, m, s in zip(xs, mean, std)}
        lines.append(f'| {strategy} | {len(seeds)} | ' + ' | '.join(
            cells.get(x, '–') for x in labels) + ' |')
    return lines + ['']


def auc_table(data: Dict[str, List], keys: Dict[str, str],
              full_acc: Optional[float], targets: List[float]) -> List[str]:
    head = [f'AUC {name}' for name in keys]
    if full_acc is not None:
        head += [f'labels to {100 * t:g}% of {full_acc:g}' for t in targets]
    head += list(COST_COLUMNS)
    lines = ['| strategy | ' + ' | '.join(head) + ' |',
             '|---|' + '---|' * len(head)]
    for strategy, seeds in data.items():
        cells = []
        for key in keys.values():
            aucs = [normalized_auc(*curve(rows, key)) for rows in seeds
                    if len(curve(rows, key)[0]) >= 2]
            cells.append(fmt(np.mean(aucs), np.std(aucs), len(aucs))
                         if aucs else '–')
        if full_acc is not None:
            xs, mean, _ = mean_std(seeds, 'test_top1')
            for t in targets:
                hit = labels_to_reach(xs, mean, t * full_acc)
                cells.append(f'{hit:.0f}' if hit is not None else
                             f'> {xs[-1]}' if xs else '–')
        for key, digits in COST_COLUMNS.values():
            times = [r[key] for rows in seeds for r in rows if key in r]
            cells.append(f'{np.mean(times):.{digits}f}' if times else '–')
        lines.append(f'| {strategy} | ' + ' | '.join(cells) + ' |')
    return lines + ['']


def recorded_minutes(data: Dict[str, List]) -> float:
    """Minutes the tabulated runs recorded for training, pool passes and
    queries: the runs' cost even when this call only reads them back."""
    keys = [key for key, _ in COST_COLUMNS.values()]
    return sum(r.get(k, 0.0) for seeds in data.values() for rows in seeds
               for r in rows for k in keys) / 60


def modalities_of(cfg: Config) -> List[str]:
    return list(configured_modalities(cfg.model))


def report(cfg: Config, args, data: Dict[str, List], out: str,
           settings: ActiveLearningSettings, elapsed: float,
           notes: List[str]) -> None:
    modalities = modalities_of(cfg)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    png = osp.splitext(out)[0] + '.png'
    accuracy, gap = {}, {}
    for strategy, seeds in data.items():
        xs, mean, std = mean_std(seeds, 'test_top1')
        accuracy[strategy] = (xs, mean, std)
        xs, mean, std = mean_std(seeds, 'test_gap')
        gap[strategy] = (xs, mean, std)
    plot_curves(accuracy, gap, png, title='strategies: mean ± std over seeds')
    epochs = settings.epochs or cfg.train_cfg.get('max_epochs')
    lines = [
        '# Active learning: acquisition strategies', '',
        f'Produced by `{args.command}`.', '',
        f'Machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch '
        f'{torch.__version__}, '
        + (torch.cuda.get_device_name(0) if torch.cuda.is_available()
           else 'no GPU') + ('; this call ran nothing (--report-only)'
                          if args.report_only else
                          f'; {elapsed / 60:.1f} min for the runs made by '
                          'this call')
        + f'; {recorded_minutes(data):.1f} min of training, pool '
        'passes and queries recorded by the tabulated runs (the shared round '
        '0 counted in each).', '',
        f'Config: `{args.config}`. Round 0: {settings.initial_budget} random '
        f'labels shared by every strategy of a seed; then '
        f'{settings.budget} labels per round for {settings.num_rounds} '
        f'rounds; epochs per round: {epochs}; '
        + ('re-initialised' if settings.reinit_each_round else 'warm-started')
        + ' every round. The checkpoint is chosen on the validation split '
        f'({settings.checkpoint}), the numbers are on the test split. '
        f'Seeds: {args.seeds}.' + (' **Quick smoke-test settings.**'
                                   if args.quick else ''), '',
        'Accuracies in %, mean ± std over seeds. Masked accuracy: the fused '
        'head with only that modality present. Gap: |share_a − share_v| of '
        'the modalities\' Shapley shares of test accuracy (points). AUC: '
        'trapezoid area under the curve divided by the label range (a mean '
        'accuracy over the budget range). Labels to reach: the first label '
        'count at which the mean curve reaches the target.', '',
        f'![curves]({osp.basename(png)})', '']
    if notes:
        lines += ['**Incomplete:** ' + '; '.join(notes) + '.', '']
    lines += [
        '## Area under the curves', '']
    keys = {'top-1': 'test_top1'}
    keys.update({f'{m} (masked)': f'test_acc_{m}' for m in modalities})
    keys['gap'] = 'test_gap'
    lines += auc_table(data, keys, args.full_data_acc, args.targets)
    lines += ['## Curves', '']
    lines += curve_table(data, 'test_top1', 'Test top-1 (fused)')
    for m in modalities:
        lines += curve_table(data, f'test_acc_{m}',
                             f'Test accuracy, {m} only (masked)')
    lines += curve_table(data, 'test_gap', 'Contribution gap (test)')
    if args.full_data_acc is None:
        lines += ['Labels-to-reach columns need `--full-data-acc` (the test '
                  'top-1 of the same model trained on every label).', '']
    with open(out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))


def main(argv=None):
    args = parse_args(argv)
    args.command = ' '.join(['python', 'tools/analysis/'
                             'active_learning_results.py',
                             *(sys.argv[1:] if argv is None else argv)])
    register_all_modules()
    limit_blas_threads()
    cfg = load_config(args)
    name = osp.splitext(osp.basename(args.config))[0]
    work_root = osp.abspath(args.work_root or osp.join(
        'work_dirs', 'active_learning', name + ('_quick' if args.quick
                                                else '')))
    out = args.out or (osp.join(work_root, 'active_learning_quick.md')
                       if args.quick else osp.join('docs', 'results',
                                                   'active_learning.md'))
    start = time.perf_counter()
    runs = run_all(cfg, args, work_root)
    elapsed = time.perf_counter() - start
    data, notes = read_runs(runs)
    if not data:
        raise FileNotFoundError(f'no run under {work_root} ({notes})')
    settings = settings_for(cfg, args, args.strategies[0], args.seeds[0],
                            work_root)
    report(cfg, args, data, out, settings, elapsed, notes)
    print(f'report: {out}')


if __name__ == '__main__':
    main()

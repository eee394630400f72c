"""Compare acquisition strategies over seeds: learning curves and their areas.

Every (strategy, seed) run is an ``ActiveLearningLoop`` in
``<work-root>/<strategy>_seed<S>``; the runs of a seed share one round 0
(``<work-root>/round0_seed<S>``), and a finished run is read back instead of
re-run (an unfinished one resumes). The report gives, per strategy, mean ±
sample std (ddof = 1) over seeds of the test accuracies (fused, masked per
modality) and of the contribution gap at each label count, the normalised
area under each curve (trapezoid over the label range, in %) with its 95 %
t-interval, the paired difference of each strategy's areas against the
reference strategy (``--reference``, random by default; paired t-test over
seeds, which share round 0), and the labels needed to reach X % of the
full-data accuracy (``--full-data-acc``, read off the mean curve).

With ``--runs-dir`` every finished run's per-round metrics are also written
there as ``<strategy>_seed<S>.json`` (with the commit and the settings), and
the report is made from those records: with ``--report-only`` it regenerates
from a fresh clone, where the run dirs do not exist.

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
from armlab.active.records import (read_json, read_run_record,
                                   run_record_path, write_run_record)
from armlab.engine.launch import merge_cli_options
from armlab.evaluation.run_records import git_commit
from armlab.evaluation.statistics import paired_t_over_seeds, seed_summary
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
    parser.add_argument('--reference', default='random',
                        help='strategy the others are paired against')
    parser.add_argument('--runs-dir', help='committed per-run records: '
                        'finished runs are exported there and the report '
                        'is made from them')
    parser.add_argument('--report-only', action='store_true',
                        help='run nothing; tabulate the finished runs (or, '
                        'with --runs-dir, their records)')
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


def run_is_done(work_dir: str) -> bool:
    state = osp.join(work_dir, 'al_state.json')
    return osp.isfile(state) and bool(read_json(state).get('done'))


def read_runs(runs: Dict[str, Dict[int, str]]):
    """Strategy -> {seed: the metric rows of its run}, and notes on the
    runs that are missing or unfinished."""
    out, notes = {}, []
    for strategy, by_seed in runs.items():
        rows = {}
        for seed, work_dir in sorted(by_seed.items()):
            path = osp.join(work_dir, 'al_metrics.csv')
            if not osp.isfile(path):
                notes.append(f'{strategy} seed {seed}: no run')
                continue
            rows[seed] = read_csv(path)
            if not run_is_done(work_dir):
                notes.append(f'{strategy} seed {seed}: unfinished '
                             f'({len(rows[seed])} rounds)')
        if rows:
            out[strategy] = rows
    return out, notes


def export_records(runs: Dict[str, Dict[int, str]], runs_dir: str,
                   args, settings_of) -> None:
    """Write the record of every finished run that has none yet (a record
    is never rewritten: it names the commit its run was made at)."""
    commit = git_commit(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    machine = machine_line()
    for strategy, by_seed in runs.items():
        for seed, work_dir in by_seed.items():
            path = run_record_path(runs_dir, strategy, seed)
            if osp.isfile(path) or not run_is_done(work_dir):
                continue
            settings = settings_of(strategy, seed)
            write_run_record(
                path, rows=read_csv(osp.join(work_dir, 'al_metrics.csv')),
                config=args.config, strategy=strategy, seed=seed,
                settings=dict(initial_budget=settings.initial_budget,
                              budget=settings.budget,
                              num_rounds=settings.num_rounds,
                              epochs=settings.epochs,
                              reinit_each_round=settings.reinit_each_round,
                              checkpoint=settings.checkpoint),
                commit=commit, machine=machine)


def read_records(runs_dir: str, strategies: List[str], seeds: List[int]):
    """The same as :func:`read_runs`, from the committed records, and the
    commits and machines the records were made at."""
    out, notes, commits, machines = {}, [], set(), set()
    for strategy in strategies:
        rows = {}
        for seed in seeds:
            path = run_record_path(runs_dir, strategy, seed)
            if not osp.isfile(path):
                notes.append(f'{strategy} seed {seed}: no record')
                continue
            record = read_run_record(path)
            rows[seed] = record['rows']
            commits.add(str(record.get('commit', 'unknown'))[:10])
            machines.add(str(record.get('machine', 'unknown')))
        if rows:
            out[strategy] = rows
    return out, notes, dict(commits=sorted(commits),
                            machines=sorted(machines))


def machine_line() -> str:
    return (f'{platform.machine()}, {os.cpu_count()} CPU cores, torch '
            f'{torch.__version__}, '
            + (torch.cuda.get_device_name(0) if torch.cuda.is_available()
               else 'no GPU'))


def curve(rows: List[Dict], key: str):
    points = [(r['num_labelled'], r[key]) for r in rows if key in r]
    return [p[0] for p in points], [p[1] for p in points]


def mean_std(seed_rows: Dict[int, List[Dict]], key: str):
    """Label counts and mean, sample std (ddof = 1; 0 for one seed) over
    seeds (runs must share the counts; a run with fewer finished rounds is
    cut to the common prefix)."""
    curves = [curve(rows, key) for rows in seed_rows.values()]
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
    std = values.std(0, ddof=1) if len(values) > 1 else np.zeros(length)
    return labels, values.mean(0), std


def fmt(mean: float, std: float, num: int) -> str:
    return f'{mean:.1f} ± {std:.1f}' if num > 1 else f'{mean:.1f}'


def curve_table(data: Dict[str, List], key: str, title: str) -> List[str]:
    labels = sorted({n for seeds in data.values() for rows in seeds.values()
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


def seed_aucs(seeds: Dict[int, List[Dict]], key: str) -> Dict[int, float]:
    """Seed -> the normalised area under that run's ``key`` curve."""
    return {seed: normalized_auc(*curve(rows, key))
            for seed, rows in seeds.items() if len(curve(rows, key)[0]) >= 2}


def fmt_summary(values) -> str:
    summary = seed_summary(list(values))
    if summary.std is None:
        return f'{summary.mean:.1f}'
    return f'{summary.mean:.1f} ± {summary.std:.1f}'


def paired_table(data: Dict[str, Dict], keys: Dict[str, str],
                 reference: str) -> List[str]:
    """Each strategy's AUC with its 95 % t-interval, and its paired
    difference from the reference strategy over the seeds both ran."""
    if reference not in data:
        return [f'No `{reference}` runs: no paired comparison.', '']
    lines = ['| strategy | curve | seeds | AUC | 95 % CI | Δ vs '
             f'{reference} | Δ 95 % CI | p (paired t, seeds) |',
             '|---|---|---|---|---|---|---|---|']
    for strategy, seeds in data.items():
        for name, key in keys.items():
            aucs = seed_aucs(seeds, key)
            if not aucs:
                continue
            summary = seed_summary(list(aucs.values()))
            interval = (f'[{summary.low:.1f}, {summary.high:.1f}]'
                        if summary.low is not None else '–')
            ref = seed_aucs(data[reference], key)
            common = sorted(set(aucs) & set(ref))
            if strategy == reference or len(common) < 2:
                cells = ['–', '–', '–']
            else:
                diff = paired_t_over_seeds([aucs[s] for s in common],
                                           [ref[s] for s in common])
                cells = [f'{diff.diff:+.1f}',
                         f'[{diff.low:+.1f}, {diff.high:+.1f}]',
                         f'{diff.p_value:.3f}']
            lines.append(f'| {strategy} | {name} | {len(aucs)} | '
                         f'{fmt_summary(aucs.values())} | {interval} | '
                         + ' | '.join(cells) + ' |')
    return lines + ['']


def auc_table(data: Dict[str, Dict], keys: Dict[str, str],
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
            aucs = seed_aucs(seeds, key)
            cells.append(fmt_summary(aucs.values()) if aucs else '–')
        if full_acc is not None:
            xs, mean, _ = mean_std(seeds, 'test_top1')
            for t in targets:
                hit = labels_to_reach(xs, mean, t * full_acc)
                cells.append(f'{hit:.0f}' if hit is not None else
                             f'> {xs[-1]}' if xs else '–')
        for key, digits in COST_COLUMNS.values():
            times = [r[key] for rows in seeds.values() for r in rows
                     if key in r]
            cells.append(f'{np.mean(times):.{digits}f}' if times else '–')
        lines.append(f'| {strategy} | ' + ' | '.join(cells) + ' |')
    return lines + ['']


def recorded_minutes(data: Dict[str, List]) -> float:
    """Minutes the tabulated runs recorded for training, pool passes and
    queries: the runs' cost even when this call only reads them back."""
    keys = [key for key, _ in COST_COLUMNS.values()]
    return sum(r.get(k, 0.0) for seeds in data.values()
               for rows in seeds.values() for r in rows for k in keys) / 60


def modalities_of(cfg: Config) -> List[str]:
    return list(configured_modalities(cfg.model))


def report(cfg: Config, args, data: Dict[str, List], out: str,
           settings: ActiveLearningSettings, elapsed: float,
           notes: List[str], made: Optional[Dict] = None) -> None:
    """Write the markdown report; ``made``: the records' commits and
    machines (a report made from records describes their machine, not
    this one's)."""
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
        'Machine: ' + ('; '.join(made['machines']) if made else
                       machine_line())
        + ('; this call ran nothing (--report-only)'
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
                                   if args.quick else ''), '']
    if made:
        lines += [f'Records: `{args.runs_dir}` (one JSON per run, the '
                  'per-round metrics), made at commit(s) '
                  + ', '.join(f'`{c}`' for c in made['commits']) + '.', '']
    lines += [
        'Accuracies in %, mean ± sample std (ddof = 1) over seeds. Masked '
        'accuracy: the fused head with only that modality present. Gap: '
        '|share_a − share_v| of the modalities\' Shapley shares of test '
        'accuracy (points). AUC: trapezoid area under the curve divided by '
        'the label range (a mean accuracy over the budget range). Labels to '
        'reach: the first label count at which the mean curve reaches the '
        'target.', '', f'![curves]({osp.basename(png)})', '']
    if notes:
        lines += ['**Incomplete:** ' + '; '.join(notes) + '.', '']
    keys = {'top-1': 'test_top1'}
    keys.update({f'{m} (masked)': f'test_acc_{m}' for m in modalities})
    keys['gap'] = 'test_gap'
    lines += [
        f'## Against {args.reference}', '',
        'Area under each test curve per strategy: mean ± sample std over '
        'seeds and the 95 % t-interval of the mean; Δ: the strategy minus '
        f'`{args.reference}` on the seeds both ran (same round 0 per seed), '
        'with the 95 % interval and two-sided p-value of a paired t-test '
        'over seeds. For the gap, lower is more balanced.', '']
    lines += paired_table(data, {'top-1': 'test_top1', **{
        k: v for k, v in keys.items() if k != 'top-1'}}, args.reference)
    lines += [
        '## Area under the curves', '']
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
    if args.runs_dir:
        export_records(runs, args.runs_dir, args, lambda strategy, seed:
                       settings_for(cfg, args, strategy, seed, work_root))
        data, notes, made = read_records(args.runs_dir, args.strategies,
                                         args.seeds)
    else:
        data, notes = read_runs(runs)
        made = None
    if not data:
        raise FileNotFoundError(f'no run under {args.runs_dir or work_root} '
                                f'({notes})')
    settings = settings_for(cfg, args, args.strategies[0], args.seeds[0],
                            work_root)
    report(cfg, args, data, out, settings, elapsed, notes, made)
    print(f'report: {out}')


if __name__ == '__main__':
    main()

"""Robustness of trained runs: RMM and corruption sweeps, one table each.

Given the work dirs of finished ``tools/train.py`` runs (joint, ARM, OGM-GE,
modality dropout, ...), it evaluates each run's best-validation checkpoint
(else its last) with its own dumped config under the RMM protocol and each
modality's corruptions, through the same code as ``tools/robustness.py``
(``armlab.robustness.sweep.run_sweep``), and writes a markdown report with
one table and one plot per sweep: the accuracy at every level, AUILC / RR,
effective robustness ER against the reference run (the joint baseline) and
both normalised over the runs, plus the machine, the seeds and the commands.
Each run's sweeps are also written as tools/robustness.py would, under
``--work-root``.

Usage::

    python tools/analysis/robustness_results.py \
        joint=work_dirs/joint_concat_resnet18_avdigits \
        arm=work_dirs/arm_resnet18_avdigits \
        ogm-ge=work_dirs/ogm-ge_resnet18_avdigits \
        modality-dropout=work_dirs/modality_dropout_resnet18_avdigits \
        --reference joint --out docs/results/robustness.md
"""
import argparse
import datetime
import os
import os.path as osp
import shlex
import sys
from glob import glob
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tools' / 'analysis'))

from mmengine.config import Config, DictAction  # noqa: E402

from armlab.engine.launch import merge_cli_options  # noqa: E402
from armlab.utils import (limit_blas_threads,  # noqa: E402
                          register_all_modules)

QUICK = dict(levels='0:1:0.5', corruptions=['audio:awgn', 'visual:gaussian'],
             max_samples=64)


def parse_args(argv=None):
    from armlab.robustness import DEFAULT_SWEEPS
    default_corruptions = [f'{m}:{c}' for m, names in DEFAULT_SWEEPS.items()
                           for c in names]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', metavar='[NAME=]WORK_DIR',
                        help='work dirs of trained runs (name defaults to '
                        'the folder name)')
    parser.add_argument('--reference', help='name of the reference run for '
                        'ER (default: "joint" if given, else the first)')
    parser.add_argument('--protocols', nargs='*', default=['RMM'],
                        choices=['RMM', 'RMFM', 'TMFM', 'STMFM'],
                        help='missing-modality protocols (default RMM)')
    parser.add_argument('--corruptions', nargs='*',
                        metavar='MODALITY:NAME',
                        help='corruption sweeps (default: '
                        f'{" ".join(default_corruptions)})')
    parser.add_argument('--levels',
                        help='rates and levels (default 0:1:0.1)')
    parser.add_argument('--seed', type=int, default=1111,
                        help='mask / corruption seed')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--max-samples', type=int,
                        help='evaluate the first N samples only')
    parser.add_argument('--quick', action='store_true',
                        help=f'smoke run: levels {QUICK["levels"]}, '
                        f'{" ".join(QUICK["corruptions"])}, '
                        f'{QUICK["max_samples"]} samples, unless given')
    parser.add_argument('--out', default='docs/results/robustness.md',
                        help='markdown report (plots go beside it)')
    parser.add_argument('--work-root', default='work_dirs/robustness_results',
                        help='per-run sweep outputs and fill caches')
    parser.add_argument('--device', help='cpu or cuda')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='key=value overrides applied to every run')
    args = parser.parse_args(argv)
    quick = QUICK if args.quick else dict(
        levels='0:1:0.1', corruptions=default_corruptions, max_samples=None)
    for key, value in quick.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def parse_runs(items: List[str]) -> Dict[str, str]:
    runs = {}
    for item in items:
        name, _, path = item.rpartition('=')
        path = path.rstrip('/')
        name = name or osp.basename(path)
        if not osp.isdir(path):
            raise FileNotFoundError(f'run {name!r}: work dir {path!r} not '
                                    'found')
        if name in runs:
            raise ValueError(f'two runs are named {name!r}; use NAME=DIR')
        runs[name] = path
    return runs


def run_files(work_dir: str) -> Tuple[str, str]:
    """The dumped config of a tools/train.py work dir and its checkpoint:
    the best-validation one, else the last."""
    configs = sorted(glob(osp.join(work_dir, '*.py')))
    if len(configs) != 1:
        raise FileNotFoundError(
            f'{work_dir}: expected the one config that tools/train.py dumps '
            f'there, found {[osp.basename(c) for c in configs]}')
    best = sorted(glob(osp.join(work_dir, 'best_*.pth')))
    if best:
        return configs[0], best[-1]
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            path = f.read().strip()
        if osp.isfile(path):
            return configs[0], path
    epochs = sorted(glob(osp.join(work_dir, 'epoch_*.pth')),
                    key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
    if not epochs:
        raise FileNotFoundError(f'{work_dir}: no checkpoint (best_*.pth, '
                                'last_checkpoint or epoch_*.pth)')
    return configs[0], epochs[-1]


def sweep_specs(args) -> list:
    from armlab.robustness.sweep import SweepSpec, parse_levels
    levels = parse_levels(args.levels)
    specs = [SweepSpec(kind='missing', protocol=p, levels=levels,
                       seed=args.seed) for p in args.protocols]
    for item in args.corruptions:
        if ':' not in item:
            raise ValueError(f'--corruptions {item!r}: use MODALITY:NAME, '
                             'e.g. audio:awgn')
        modality, name = item.split(':', 1)
        specs.append(SweepSpec(kind='corruption', protocol=name,
                               levels=levels, modality=modality,
                               seed=args.seed))
    return specs


def single_command(config: str, checkpoint: str, spec, args) -> str:
    """The tools/robustness.py command that reproduces one sweep."""
    what = (['--corruption', spec.protocol, '--modality', spec.modality]
            if spec.kind == 'corruption' else ['--protocol', spec.protocol])
    cmd = ['python', 'tools/robustness.py', config, checkpoint, *what,
           '--levels', args.levels, '--seed', str(args.seed), '--split',
           args.split]
    if args.max_samples:
        cmd += ['--max-samples', str(args.max_samples)]
    return ' '.join(shlex.quote(c) for c in cmd)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    from compare_methods import machine

    from armlab.robustness import report
    from armlab.robustness.sweep import load_model, run_sweep

    runs = parse_runs(args.runs)
    reference = args.reference or ('joint' if 'joint' in runs else
                                   next(iter(runs)))
    if reference not in runs:
        raise KeyError(f'--reference {reference!r} is not one of the runs '
                       f'{list(runs)}')
    specs = sweep_specs(args)
    results: Dict[str, Dict[str, dict]] = {s.name: {} for s in specs}
    described = []
    for name, work_dir in runs.items():
        config, checkpoint = run_files(work_dir)
        cfg = Config.fromfile(config)
        merge_cli_options(cfg, args.cfg_options)
        seed = (cfg.get('randomness') or {}).get('seed')
        preset = cfg.test_dataloader.dataset.get('preset')
        described.append((name, work_dir, config, checkpoint, seed, preset))
        model = load_model(cfg, checkpoint, args.device)
        for spec in specs:
            out_dir = osp.join(args.work_root, name, spec.name)
            result = run_sweep(model, cfg, spec, split=args.split,
                               work_dir=out_dir, max_samples=args.max_samples,
                               desc=f'{name} {spec.name}')
            result.update(label=name, config=config, checkpoint=checkpoint)
            results[spec.name][name] = result
            report.write_sweep(result, out_dir, command=single_command(
                config, checkpoint, spec, args))
    write_report(args, results, reference, described, machine(), argv)


def write_report(args, results, reference, described, machine_line,
                 argv) -> None:
    from armlab.robustness import report
    out_dir = osp.dirname(args.out) or '.'
    os.makedirs(out_dir, exist_ok=True)
    command = ' '.join(shlex.quote(a) for a in (
        ['python', 'tools/analysis/robustness_results.py'] +
        (sys.argv[1:] if argv is None else list(argv))))
    first = next(iter(next(iter(results.values())).values()))
    lines = ['# Robustness: missing modalities and corruptions', '',
             f'Produced by `{command}` on '
             f'{datetime.date.today().isoformat()}.', '', machine_line, '',
             f'Evaluated on the {args.split} split '
             f'({first.get("num_samples")} samples) at each run\'s '
             'best-validation checkpoint (else its last); mask and '
             f'corruption seed {args.seed} (the same missing units and '
             'corrupted inputs for every run); metric: top-1 accuracy (%). '
             'AUILC / RR: trapezoid area under the curve; ER: accuracy above '
             f'the reference run ({reference}) shifted to the same clean '
             'accuracy, summed over the levels; (norm.): max-min normalised '
             'over the runs of the table (– when they tie). RMM uses each '
             'model\'s fusion fill for absent modalities.', '',
             '| run | work dir | config | checkpoint | training seed | '
             'preset |', '|---|---|---|---|---|---|']
    for name, work_dir, config, ckpt, seed, preset in described:
        lines.append(f'| {name} | `{work_dir}` | `{osp.basename(config)}` | '
                     f'`{osp.basename(ckpt)}` | {seed} | {preset} |')
    lines.append('')
    stem = osp.splitext(args.out)[0]
    for sweep, by_run in results.items():
        any_result = next(iter(by_run.values()))
        png = f'{stem}_{sweep}.png'
        report.plot(by_run, png, sweep)
        lines += [f'## {sweep}', '', report.describe(any_result) + '.', '']
        lines += report.comparison_table(by_run, reference) + ['']
        lines += [f'![{sweep}]({osp.basename(png)})', '',
                  'One run: `' + single_command(
                      any_result['config'], any_result['checkpoint'],
                      _spec(any_result), args) + '`', '']
    text = '\n'.join(lines)
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(text)
    print(text)


def _spec(result: dict):
    from armlab.robustness.sweep import SweepSpec
    return SweepSpec(**result['spec'])


if __name__ == '__main__':
    main()

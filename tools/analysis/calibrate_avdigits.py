"""Calibrate the AV-Digits imbalance knobs on one build (docs/avdigits.md).

Trains the audio-only model at a grid of audio SNRs and the visual-only model
at a grid of pixel-noise sigmas, each as a ``tools/train.py`` subprocess on
the ``clean`` preset with only the one knob overridden, reads the best
validation ``accuracy/top1`` of every run from its ``vis_data/scalars.json``
and writes a markdown table. The numbers feed ``CALIBRATION`` and the presets
in ``armlab/datasets/avdigits/presets.py``.

Example (the embedded variant, a short schedule on 2,000 training samples)::

    python tools/analysis/calibrate_avdigits.py \\
        --audio-snrs clean 0 -5 -10 --visual-sigmas 0 1 2 3 \\
        --epochs 2 --num-train 2000 --seed 0

``--dry-run`` prints the commands without running them; a run whose work dir
already holds scalars is read back instead of retrained (``--force`` retrains).
"""
import argparse
import json
import os
import os.path as osp
import platform
import shlex
import subprocess
import sys
import time
from typing import List, Optional

import torch

from armlab.utils.scalars import epoch_series, load_scalars

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
METRIC = 'accuracy/top1'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Unimodal accuracies of AV-Digits at a grid of knobs.')
    parser.add_argument(
        '--audio-config',
        default='configs/unimodal/unimodal_audio_resnet18_avdigits.py')
    parser.add_argument(
        '--visual-config',
        default='configs/unimodal/unimodal_visual_resnet18_avdigits.py')
    parser.add_argument('--audio-snrs', nargs='*', default=['clean', '0',
                                                            '-5', '-10'],
                        help="audio SNRs in dB; 'clean' = no noise")
    parser.add_argument('--visual-sigmas', nargs='*', type=float,
                        default=[0.0, 1.0, 2.0, 3.0],
                        help='pixel-noise sigmas on the [0, 1] image scale')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--num-train', type=int, default=None,
                        help='train on the first N training samples '
                        '(default: all)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='dataloader workers per run (default: config)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-root', default='work_dirs/calibrate_avdigits')
    parser.add_argument('--data-root', default=None,
                        help="benchmark folder (default: the configs' own "
                        'data_root); an existing build is reused')
    parser.add_argument('--out', default='docs/results/avdigits_calibration.md')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands and exit')
    parser.add_argument('--force', action='store_true',
                        help='retrain runs whose work dir already has scalars')
    return parser.parse_args(argv)


def parse_snr(text: str) -> Optional[float]:
    """``'clean'``/``'none'`` -> None, else the SNR in dB."""
    return None if text.lower() in ('clean', 'none') else float(text)


def fmt_knob(value: Optional[float]) -> str:
    return 'clean' if value is None else f'{value:g}'


def plan_runs(args: argparse.Namespace) -> List[dict]:
    """One dict per training run: modality, knob name and value, work dir."""
    runs = []
    for snr in map(parse_snr, args.audio_snrs):
        runs.append(dict(modality='audio', config=args.audio_config,
                         knob='audio_snr_db', value=snr,
                         work_dir=osp.join(args.work_root,
                                           f'audio_snr_{fmt_knob(snr)}')))
    for sigma in args.visual_sigmas:
        runs.append(dict(modality='visual', config=args.visual_config,
                         knob='visual_noise_std', value=float(sigma),
                         work_dir=osp.join(args.work_root,
                                           f'visual_sigma_{sigma:g}')))
    return runs


def run_config_text(run: dict, args: argparse.Namespace) -> str:
    """A config that inherits ``run['config']`` and sets the data knobs.

    ``--cfg-options`` cannot carry a dict value, so the dataset overrides
    (``preset='clean'``, ``imbalance=dict(<knob>=<value>)``, the data root
    and the training subset) live in this small derived config, written
    into the run's work dir next to its logs.
    """
    imbalance = {} if run['value'] is None else {run['knob']: run['value']}
    dataset = dict(preset='clean', imbalance=imbalance)
    if args.data_root:
        dataset['data_root'] = args.data_root
    lines = [
        '# Written by tools/analysis/calibrate_avdigits.py',
        f"_base_ = {osp.join(REPO, run['config'])!r}",
    ]
    for loader in DATALOADERS:
        loader_cfg = dict(dataset=dict(dataset))
        if loader == 'train_dataloader' and args.num_train:
            loader_cfg['dataset']['indices'] = args.num_train
        if args.num_workers is not None:
            loader_cfg['num_workers'] = args.num_workers
            if args.num_workers == 0:
                loader_cfg['persistent_workers'] = False
        lines.append(f'{loader} = {loader_cfg!r}')
    return '\n'.join(lines) + '\n'


def run_config_path(run: dict) -> str:
    return osp.join(run['work_dir'], 'calibration_run.py')


def build_command(run: dict, args: argparse.Namespace) -> List[str]:
    """The ``tools/train.py`` command line of one run."""
    options = [
        f'train_cfg.max_epochs={args.epochs}',
        f'param_scheduler.0.end={args.epochs}',
        f'randomness.seed={args.seed}',
    ]
    return [sys.executable, 'tools/train.py', run_config_path(run),
            '--work-dir', run['work_dir'], '--cfg-options', *options]


def best_accuracy(work_dir: str) -> Optional[dict]:
    """Best validation top-1 (in %) of a work dir and its epoch, or None."""
    try:
        rows = load_scalars(work_dir)
    except FileNotFoundError:
        return None
    epochs, values = epoch_series(rows, METRIC)
    if not values:
        return None
    best = max(range(len(values)), key=values.__getitem__)
    return dict(acc=values[best], epoch=epochs[best], last=values[-1],
                epochs_done=len(values))


def train(run: dict, args: argparse.Namespace, index: int,
          total: int) -> dict:
    """Train one run (unless it is done) and read its accuracy back."""
    label = f"[{index}/{total}] {run['modality']} {run['knob']}=" \
            f"{fmt_knob(run['value'])}"
    result = None if args.force else best_accuracy(run['work_dir'])
    if result and result['epochs_done'] >= args.epochs:
        print(f'{label}: already trained, read back', flush=True)
        if osp.isfile(_timing_file(run)):
            with open(_timing_file(run), encoding='utf-8') as f:
                result.update(json.load(f))
    else:
        cmd = build_command(run, args)
        print(f'{label}: training ...', flush=True)
        os.makedirs(run['work_dir'], exist_ok=True)
        with open(run_config_path(run), 'w', encoding='utf-8') as f:
            f.write(run_config_text(run, args))
        log_file = osp.join(run['work_dir'], 'calibrate_stdout.log')
        start, cpu0 = time.time(), _children_cpu()
        with open(log_file, 'w') as log:
            proc = subprocess.run(cmd, cwd=REPO, stdout=log,
                                  stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise RuntimeError(f'{label} failed (exit {proc.returncode}); '
                               f'see {log_file}')
        result = best_accuracy(run['work_dir'])
        if result is None:
            raise RuntimeError(f'{label}: no {METRIC} in {run["work_dir"]}')
        timing = dict(wall_s=time.time() - start,
                      cpu_s=_children_cpu() - cpu0)
        with open(_timing_file(run), 'w', encoding='utf-8') as f:
            json.dump(timing, f)
        result.update(timing)
    timing = (f", {result['wall_s']:.0f} s wall, {result['cpu_s']:.0f} s CPU"
              if 'wall_s' in result else '')
    print(f"{label}: best val top-1 {result['acc']:.2f} % "
          f"(epoch {result['epoch']:g}){timing}", flush=True)
    return {**run, **result}


def _timing_file(run: dict) -> str:
    return osp.join(run['work_dir'], 'calibration_timing.json')


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def machine() -> str:
    return (f'{platform.system()} {platform.machine()}, '
            f'{platform.processor() or "cpu"}, {os.cpu_count()} CPU cores, '
            f'Python {platform.python_version()}, torch {torch.__version__}')


def write_table(results: List[dict], args: argparse.Namespace,
                command: str) -> str:
    """The markdown report: one row per run, then the setup."""
    subset = (f'first {args.num_train} training samples'
              if args.num_train else 'all training samples')
    lines = [
        '# AV-Digits calibration: unimodal accuracies per knob',
        '',
        'Written by `tools/analysis/calibrate_avdigits.py`. Best validation '
        f'top-1 over the run (validation split, held-out voices), {subset}, '
        f'{args.epochs} epoch(s) with the one-cycle schedule shrunk to '
        f'{args.epochs} epoch(s), seed {args.seed}, preset `clean` plus the '
        'one knob. Short schedules understate final accuracies.',
        '',
        '| Modality | Knob | Value | Val top-1 (%) | Best epoch | Last epoch '
        '(%) | Seed | Epochs | Wall (s) | CPU (s) |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in results:
        wall = f"{r['wall_s']:.0f}" if 'wall_s' in r else '–'
        cpu = f"{r['cpu_s']:.0f}" if 'cpu_s' in r else '–'
        lines.append(
            f"| {r['modality']} | `{r['knob']}` | {fmt_knob(r['value'])} | "
            f"{r['acc']:.2f} | {r['epoch']:g} | {r['last']:.2f} | "
            f"{args.seed} | {args.epochs} | {wall} | {cpu} |")
    lines += [
        '',
        f'- Configs: `{args.audio_config}`, `{args.visual_config}`',
        f"- Data root: `{args.data_root or 'config default'}`",
        f'- Machine: {machine()}',
        f'- Command: `{command}`',
        '',
    ]
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    args.work_root = osp.abspath(args.work_root)
    runs = plan_runs(args)
    if args.dry_run:
        for run in runs:
            print(f'# {run_config_path(run)}:')
            print(run_config_text(run, args), end='')
            print(' '.join(shlex.quote(c) for c in build_command(run, args)))
            print()
        return
    results = [train(run, args, i, len(runs))
               for i, run in enumerate(runs, 1)]
    command = 'python tools/analysis/calibrate_avdigits.py ' + ' '.join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    report = write_table(results, args, command)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(report)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()

"""Train a set of configs over seeds and tabulate them side by side.

Every run goes through ``tools/train.py`` (so it is exactly what a user
runs); the checkpoint is chosen on the validation split, then the test split
is evaluated at that checkpoint with ``tools/test.py``. The table reports mean
and std over seeds of the validation and test metrics and the wall time per
epoch, with the machine and the command that made it.

Usage::

    python tools/analysis/compare_methods.py CONFIG [CONFIG ...] \
        --seeds 0 1 2 --out docs/results/avdigits.md [--cfg-options ...]
"""
import argparse
import ast
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from armlab.utils.scalars import epoch_series, load_scalars  # noqa: E402

METRICS = ('accuracy/top1', 'f1/macro', 'acc_audio_mask', 'acc_visual_mask',
           'acc_erased_audio')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--work-root', default='work_dirs/compare')
    parser.add_argument('--out', help='markdown file to write')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run (key=value)')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse runs whose work dir holds a result')
    return parser.parse_args()


def run(cmd: List[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{proc.stderr[-3000:]}')
    return proc


def train_and_test(config: str, seed: int, work_dir: str,
                   options: List[str]) -> Dict[str, float]:
    """One run: train, read the best validation epoch, test there."""
    result_file = osp.join(work_dir, 'compare_result.json')
    opts = [f'randomness.seed={seed}', *options]
    start = time.time()
    run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *opts])
    wall = time.time() - start
    rows = load_scalars(work_dir)
    epochs, top1 = epoch_series(rows, 'accuracy/top1')
    best = int(epochs[int(np.argmax(top1))])
    result = {'best_epoch': best, 'epochs': len(epochs),
              'wall_per_epoch_s': wall / max(len(epochs), 1)}
    for key in METRICS:
        ep, values = epoch_series(rows, key)
        if values:
            result[f'val/{key}'] = dict(zip(ep, values))[best]
            result[f'last/{key}'] = values[-1]
    best_ckpt = sorted(Path(work_dir).glob('best_*.pth'))[-1]
    proc = run([sys.executable, 'tools/test.py', config, str(best_ckpt),
                '--split', 'test', '--work-dir',
                osp.join(work_dir, 'test_at_best'), '--cfg-options', *opts])
    line = [x for x in proc.stdout.splitlines()
            if x.startswith('test metrics:')][-1]
    test = ast.literal_eval(line.split(':', 1)[1].strip())
    for key in METRICS:
        if key in test:
            result[f'test/{key}'] = test[key]
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def summarise(results: Dict[str, List[dict]]) -> List[str]:
    cols = [('test/accuracy/top1', 'test top-1'),
            ('test/f1/macro', 'test macro-F1'),
            ('test/acc_audio_mask', 'test audio (masked)'),
            ('test/acc_visual_mask', 'test visual (masked)'),
            ('val/accuracy/top1', 'val top-1 (best)'),
            ('wall_per_epoch_s', 's / epoch')]
    lines = ['| config | seeds | ' + ' | '.join(c[1] for c in cols) + ' |',
             '|---|---|' + '---|' * len(cols)]
    for config, runs in results.items():
        cells = []
        for key, _ in cols:
            values = [r[key] for r in runs if key in r]
            if not values:
                cells.append('–')
            elif len(values) == 1:
                cells.append(f'{values[0]:.1f}')
            else:
                cells.append(f'{np.mean(values):.1f} ± {np.std(values):.1f}')
        lines.append(f'| {osp.basename(config)[:-3]} | {len(runs)} | ' +
                     ' | '.join(cells) + ' |')
    return lines


def main():
    args = parse_args()
    results: Dict[str, List[dict]] = {}
    for config in args.configs:
        for seed in args.seeds:
            name = osp.splitext(osp.basename(config))[0]
            work_dir = osp.join(args.work_root, name, f'seed{seed}')
            cached = osp.join(work_dir, 'compare_result.json')
            if args.skip_existing and osp.isfile(cached):
                with open(cached) as f:
                    result = json.load(f)
            else:
                print(f'[compare] {name} seed {seed} ...', flush=True)
                result = train_and_test(config, seed, work_dir,
                                        args.cfg_options)
            print(f'[compare] {name} seed {seed}: ' + json.dumps(
                {k: round(v, 2) for k, v in result.items()}), flush=True)
            results.setdefault(config, []).append(result)
    import torch
    header = [
        f'Produced by `python tools/analysis/compare_methods.py '
        f'{" ".join(args.configs)} --seeds {" ".join(map(str, args.seeds))}'
        + (f' --cfg-options {" ".join(args.cfg_options)}'
           if args.cfg_options else '') + '`.',
        '',
        f'Machine: {platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} CPU cores, torch {torch.__version__}, no GPU'
        if not torch.cuda.is_available() else
        f'Machine: {torch.cuda.get_device_name()}, torch {torch.__version__}',
        '',
        'Checkpoint chosen on the validation split; test evaluated at that '
        'checkpoint. Accuracies in %, mean ± std over seeds.',
        '',
    ]
    text = '\n'.join(header + summarise(results)) + '\n'
    print(text)
    if args.out:
        os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()

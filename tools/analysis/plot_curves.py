"""Plot every scalar a training run logged, one panel per family.

Usage: ``python tools/analysis/plot_curves.py WORK_DIR [--out DIR]
[--timestamp TS]``. Writes ``train_curves.png`` (per-iteration scalars),
``epoch_curves.png`` (validation and epoch hooks) and ``curves.json`` (which
scalars each panel shows) into ``WORK_DIR/curves`` by default. WORK_DIR may
also be one of its timestamped session folders. Sessions resumed with
``--resume`` are merged into the run they continue; of several runs in one
work dir the latest is plotted unless ``--timestamp`` names a session.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from armlab.visualization import load_run, plot_curves  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='a work dir of tools/train.py, or '
                        'one of its timestamped session folders')
    parser.add_argument('--out', help='output folder (default: '
                        'WORK_DIR/curves)')
    parser.add_argument('--timestamp', help='plot the run holding this '
                        'session (YYYYmmdd_HHMMSS); default: the latest run')
    args = parser.parse_args()
    run = load_run(args.work_dir, args.timestamp)
    out = args.out or osp.join(str(run.work_dir), 'curves')
    for path in plot_curves(run, out).values():
        print(f'wrote {path}')
    print(f'sessions: {", ".join(run.timestamps)}')


if __name__ == '__main__':
    main()

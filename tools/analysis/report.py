"""One markdown report over training runs: summary table, curves,
confusion matrices and an overlay of the fused validation accuracy.

Usage: ``python tools/analysis/report.py WORK_DIR [WORK_DIR ...] --out DIR
[--confusion]``. Writes ``DIR/report.md``, its PNGs and ``summary.json``.
A WORK_DIR may be a timestamped session folder, to pick that run of the work
dir (default: its latest run). Test accuracy comes from ``tools/test.py``
sessions found in the work dir; confusion matrices from
``confusion_matrix.py`` outputs there, or, with ``--confusion``, from running
the best checkpoint over ``--split`` with the run's own config.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from armlab.visualization import write_report  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--confusion', action='store_true',
                        help='compute confusion matrices of the best '
                        'checkpoint where a work dir has none')
    parser.add_argument('--split', choices=['val', 'test'], default='test',
                        help='split of --confusion (default: test)')
    args = parser.parse_args()
    command = 'python tools/analysis/report.py ' + ' '.join(sys.argv[1:])
    path = write_report(args.work_dirs, args.out, args.confusion, args.split,
                        command)
    print(f'wrote {path}')


if __name__ == '__main__':
    main()

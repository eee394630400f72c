"""Confusion matrices of the fused prediction and of each masked modality.

Usage::

    # run a checkpoint over the test split (as tools/test.py does)
    python tools/analysis/confusion_matrix.py CONFIG CHECKPOINT \
        [--split test] [--out DIR] [--cfg-options ...]
    # or read the predictions that tools/test.py --out dumped
    python tools/analysis/confusion_matrix.py --predictions PKL [--out DIR]

Writes ``confusion_fused.{png,csv}``, ``confusion_<m>_mask.{png,csv}`` and
``confusion.json`` into ``--out`` (default: ``confusion_<split>`` beside the
checkpoint, or ``confusion`` beside the pickle). Rows are true classes,
columns predicted ones; diagonal / total is the top-1 accuracy.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmengine.config import DictAction  # noqa: E402

from armlab.visualization import (confusions_from_predictions,  # noqa: E402
                                  load_predictions, predict_split,
                                  save_confusions)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='config file path')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--predictions', help='a pickle from tools/test.py '
                        '--out, instead of CONFIG CHECKPOINT')
    parser.add_argument('--split', choices=['val', 'test'], default='test',
                        help='split to run the checkpoint over '
                        '(default: test)')
    parser.add_argument('--classes', nargs='+', help='class names for '
                        '--predictions (default: the class indices)')
    parser.add_argument('--out', help='output folder')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys; a key the config lacks is an error')
    args = parser.parse_args()
    if bool(args.predictions) == bool(args.config and args.checkpoint):
        parser.error('give either CONFIG CHECKPOINT or --predictions PKL')
    return args


def main():
    args = parse_args()
    if args.predictions:
        predictions = load_predictions(args.predictions)
        classes = args.classes
        out = args.out or osp.join(osp.dirname(args.predictions), 'confusion')
        title = osp.basename(args.predictions)
    else:
        out = args.out or osp.join(osp.dirname(args.checkpoint),
                                   f'confusion_{args.split}')
        predictions, metrics, classes = predict_split(
            args.config, args.checkpoint, out, args.split, args.cfg_options)
        classes = args.classes or classes
        title = f'{osp.basename(args.checkpoint)} ({args.split})'
        print(f'{args.split} metrics: {metrics}')
    summary = save_confusions(confusions_from_predictions(predictions), out,
                              classes, title)
    for name, info in summary.items():
        print(f'{name}: top-1 {info["accuracy"]:.2f}% of {info["total"]}')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()

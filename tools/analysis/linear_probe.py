"""Linear-probe accuracy of each frozen encoder of a checkpoint.

Fits a logistic regression per modality on the encoder's features of the
training split (read with the test pipeline, derived from the config) and
reports its accuracy on the test (or validation) split. Run it on a joint
model and on the unimodal model of the same modality: the difference is the
representation gap that balancing methods try to close.

Usage::

    python tools/analysis/linear_probe.py CONFIG CHECKPOINT [--split test] \
        [--out probe.json] [--cfg-options ...]
"""
import argparse
import json
import os.path as osp
import sys
from pathlib import Path

from mmengine.config import Config, DictAction
from mmengine.runner import Runner, load_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from armlab.datasets.train_eval import train_eval_loader_cfg  # noqa: E402
from armlab.engine.launch import merge_cli_options  # noqa: E402
from armlab.evaluation.linear_probe import (extract_features,  # noqa: E402
                                            probe_modalities)
from armlab.registry import MODELS  # noqa: E402
from armlab.utils import limit_blas_threads, register_all_modules  # noqa


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', choices=['val', 'test'], default='test')
    parser.add_argument('--max-train', type=int, default=None,
                        help='probe on at most this many training samples '
                        '(the first ones, in dataset order)')
    parser.add_argument('--out', help='write the accuracies to this JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules()
    limit_blas_threads()
    for path in (args.config, args.checkpoint):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    train_cfg = train_eval_loader_cfg(cfg)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu',
                    logger='silent')
    if args.max_train:
        train_cfg.dataset = dict(train_cfg.dataset,
                                 indices=args.max_train)
    train_loader = Runner.build_dataloader(train_cfg, seed=0)
    test_loader = Runner.build_dataloader(
        cfg.test_dataloader if args.split == 'test' else cfg.val_dataloader,
        seed=0)
    train, train_labels = extract_features(model, train_loader)
    test, test_labels = extract_features(model, test_loader)
    result = probe_modalities(train, train_labels, test, test_labels)
    result.update(split=args.split, num_train=int(len(train_labels)),
                  num_test=int(len(test_labels)))
    print('linear probe: ' + json.dumps(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()

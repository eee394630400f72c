"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

By default it evaluates the validation split, so that it reproduces the last
validation of training; ``--split test`` evaluates the test split.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from armlab.engine.launch import merge_cli_options, setup_distributed
from armlab.utils import limit_blas_threads, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test an armlab model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', choices=['val', 'test'], default='val',
                        help='which split to evaluate (default: val)')
    parser.add_argument('--work-dir', help='where the test logs go')
    parser.add_argument('--out', help='dump the predictions to this pickle')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys; a key the config lacks is an error')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    register_all_modules()
    limit_blas_threads()
    for path, what in ((args.config, 'config'), (args.checkpoint,
                                                 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.split == 'val':
        cfg.test_dataloader = cfg.val_dataloader
        cfg.test_evaluator = cfg.val_evaluator
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpResults', out_file_path=args.out)
        ]
    setup_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    print(f'{args.split} metrics: {metrics}')


if __name__ == '__main__':
    main()

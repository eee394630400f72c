"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

By default it evaluates the validation split, so that it reproduces the last
validation of training; ``--split test`` evaluates the test split.
"""
import argparse
import os

from mmengine.config import DictAction
from mmengine.runner import Runner

from armlab.engine.checkpoint_eval import eval_config
from armlab.engine.launch import close_distributed
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
    cfg = eval_config(args.config, args.checkpoint, args.work_dir,
                      args.split, args.cfg_options, dump_to=args.out,
                      launcher=args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    print(f'{args.split} metrics: {metrics}')
    del runner  # the DDP wrapper holds the process group
    close_distributed()


if __name__ == '__main__':
    main()

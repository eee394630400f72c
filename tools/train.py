"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

The arguments are those of mmpretrain's ``tools/train.py``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from armlab.engine.launch import (add_vis_backends, close_distributed,
                                  merge_cli_options, setup_distributed,
                                  use_amp)
from armlab.engine.method_parts import check_method_parts
from armlab.utils import limit_blas_threads, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Train an armlab model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument(
        '--vis-backend', nargs='+', default=[], metavar='NAME',
        help='also log to these mmengine visualisation backends '
        '(tensorboard, wandb, mlflow, clearml); the local scalars.json stays')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not validate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true',
                        help='set pin_memory=False in every dataloader')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='set persistent_workers=False in every '
                        'dataloader')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_cfg.max_epochs=3; a key the '
        'config does not have is an error')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args) -> Config:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        use_amp(cfg)
    add_vis_backends(cfg, args.vis_backend)
    check_method_parts(cfg)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume: checkpoint {args.resume!r} not found')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    setup_distributed(cfg, args.launcher)
    return cfg


def main():
    args = parse_args()
    register_all_modules()
    limit_blas_threads()
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg)
    runner.train()
    del runner  # the DDP wrapper holds the process group
    close_distributed()


if __name__ == '__main__':
    main()

"""Run an active-learning strategy: ``python tools/active_learn.py CONFIG
--strategy NAME``.

The settings come from the config's ``active_learning = dict(...)`` block;
the options below override them. Every round's model, labelled set,
selection and metrics are saved under the work dir (default
``work_dirs/active_learning/<config>/<strategy>_seed<S>``), with
``al_metrics.csv`` and ``curve.png``. Round 0 is shared by every strategy of
a seed (cached in the work dir's parent as ``round0_seed<S>``), and
``--resume`` continues a run at its first unfinished round.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

from armlab.active import (ActiveLearningLoop, ActiveLearningSettings,
                           parse_budget_arg)
from armlab.engine.launch import merge_cli_options
from armlab.utils import limit_blas_threads, register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Multimodal active learning with one strategy')
    parser.add_argument('config', help='training config file')
    parser.add_argument('--strategy', help='acquisition strategy (default: '
                        'the config\'s active_learning.strategy)')
    parser.add_argument('--seed', type=int, help='run seed (round-0 set, '
                        'training seeds, strategy draws)')
    parser.add_argument('--work-dir', help='run dir (default: work_dirs/'
                        'active_learning/<config>/<strategy>_seed<S>)')
    parser.add_argument('--work-root', help='where the shared round 0 is '
                        'cached (default: the parent of the work dir)')
    parser.add_argument('--round0-from', help='copy round 0 (labelled set '
                        'and model) from this run or round-0 dir')
    parser.add_argument('--rounds', type=int, help='acquisition rounds R')
    parser.add_argument('--initial-budget', type=parse_budget_arg,
                        help='round-0 labels: a count or a fraction')
    parser.add_argument('--budget', type=parse_budget_arg,
                        help='labels per round: 200, 0.05 or 100,200,400')
    parser.add_argument('--epochs', type=int, help='epochs per round')
    parser.add_argument('--warm-start', action='store_true',
                        help='start each round from the previous model '
                        '(default: re-initialise, as BMMAL)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in the work dir')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. active_learning.budget=100; a key '
        'the config does not have is an error')
    return parser.parse_args(argv)


def build(args):
    """The config, settings and work dir of the command line."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    block = cfg.get('active_learning') or {}
    if hasattr(block, 'to_dict'):
        block = block.to_dict()
    settings = ActiveLearningSettings.from_config(
        block, seed=args.seed, num_rounds=args.rounds,
        initial_budget=args.initial_budget, budget=args.budget,
        epochs=args.epochs, round0_from=args.round0_from,
        work_root=args.work_root,
        reinit_each_round=False if args.warm_start else None)
    if args.strategy:
        settings = settings.with_strategy(args.strategy)
    config_name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join(
        settings.work_root or osp.join('work_dirs', 'active_learning',
                                       config_name),
        f'{settings.strategy_name}_seed{settings.seed}')
    return cfg, settings, work_dir


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    cfg, settings, work_dir = build(args)
    loop = ActiveLearningLoop(cfg, settings, work_dir,
                              progress=not args.no_progress)
    history = loop.run(resume=args.resume)
    last = history[-1] if history else {}
    print(f'active learning done: {work_dir} ({len(history)} rounds, '
          f'{last.get("num_labelled")} labels, test top-1 '
          f'{last.get("test_top1")})')


if __name__ == '__main__':
    main()

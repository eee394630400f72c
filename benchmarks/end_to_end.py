"""End-to-end wall time of AV-Digits training, old data path against new.

Trains the joint and the ARM configs of AV-Digits (audio-dominant) through
``tools/train.py`` as a user does (validation every epoch, checkpoints,
logging), once per data path and round, alternated (joint old, joint new,
ARM old, ARM new, ...) so that a change of machine load hits both sides:

* ``baseline`` (joint only; ``--baseline-rev ''`` leaves it out): the
  repository at ``--baseline-rev`` (default: the last commit before the
  batched data path), checked out in a temporary git worktree and run with
  its own code and configs: the old pipeline exactly as it was;
* ``old``: this code's per-sample path, the data path of the configs before
  the batched front-end: ``dataset.on_batch=False`` (noise and librosa
  log-mel per sample, in the workers), ``dataset.cache=False`` (files decoded
  per sample) and ``collate_fn=pseudo_collate`` (one shared-memory tensor per
  sample sent to the main process) in every loader. It already has this
  change's per-sample fixes (cheaper seeding and packing), so it is faster
  than ``baseline``;
* ``old_stacked`` (joint only, ``--no-stacked`` leaves it out): ``old`` with
  the configs' ``default_collate``, to show what the collation alone gives;
* ``new``: the configs as shipped: the shared in-memory file cache, the
  batched front-end on the model's device and stacked batches;
* ``new_steps`` (ARM only, ``--no-arm-steps`` leaves it out): ``new`` with
  ``ARMHook(valuation='steps')``, the values of the training steps instead
  of the hook's eval pass, to show what the pass costs
  (``ratio_arm_steps_over_joint_new``).

``ratio_new_over_old_joint`` is new / baseline when the baseline ran (new /
old otherwise); ``ratio_new_over_per_sample_joint`` is new / old.

Each run is then tested at its best-validation checkpoint (what
``tools/test.py --split test`` computes, run in this process), so that the
JSON shows the speed-up changing no result beyond seed noise (the paths
draw the same noise distribution from different generators; the baseline
and ``old`` draw the same numbers). Wall time is the ``tools/train.py``
process, start-up included; the test is not timed.

    python benchmarks/end_to_end.py [--epochs 8] [--repeats 1] \
        [--data-root data/avdigits/sklearn_espeak] [--seed 0] \
        [--baseline-rev 56a7211] [--no-stacked]
"""
import argparse
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

from common import REPO, RESULTS, environment, relative, write_result

sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
from compare_methods import best_checkpoint  # noqa: E402

CONFIGS = dict(
    joint=REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py',
    arm=REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: A small build for --quick (the configs' build parameters otherwise).
QUICK_BUILD = dict(num_train=60, num_val=20, num_test=20, num_frames=3,
                   canvas=32, window_s=1.0, visual_source='sklearn',
                   audio_source='espeak', seed=0)
TEST_KEYS = ('accuracy/top1', 'acc_audio_mask', 'acc_visual_mask')
DEFAULT_DATA_ROOT = 'data/avdigits/sklearn_espeak'
#: The last commit before the shared file cache and the batched front-end.
BASELINE_REV = '56a7211'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=1,
                        help='rounds of the four alternated cases')
    parser.add_argument('--data-root', default=None,
                        help="an AV-Digits build with the configs' "
                        'parameters, built there on first use (default '
                        'data/avdigits/sklearn_espeak; with --quick, a '
                        '60/20/20 build, by default in a temporary folder)')
    parser.add_argument('--work-root',
                        default='work_dirs/benchmarks/end_to_end')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-stacked', action='store_true',
                        help='leave out the old_stacked case')
    parser.add_argument('--no-arm-steps', action='store_true',
                        help="leave out the arm_new_steps case (ARMHook "
                        "valuation='steps')")
    parser.add_argument('--baseline-rev', default=BASELINE_REV,
                        help='git revision whose own code trains the '
                        "baseline case ('' to leave it out; default: the "
                        'last commit before the batched data path)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: a 60-sample build, width-4 '
                        'encoders, 1 epoch, batch 16, no worker processes '
                        '(not a measurement)')
    parser.add_argument('--out', default=str(RESULTS / 'end_to_end.json'))
    return parser.parse_args()


def path_options(path: str) -> List[str]:
    """--cfg-options that select a data path in every loader."""
    if path == 'new':
        return []
    if path == 'new_steps':
        return ['custom_hooks.0.valuation=steps']
    opts = [opt for loader in LOADERS
            for opt in (f'{loader}.dataset.on_batch=False',
                        f'{loader}.dataset.cache=False')]
    if path == 'old':
        opts += [f'{loader}.collate_fn.type=pseudo_collate'
                 for loader in LOADERS]
    return opts


def quick_options(data_root: str) -> List[str]:
    opts = []
    for loader in LOADERS:
        opts += [f'{loader}.batch_size=16', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
        opts += [f'{loader}.dataset.build_cfg.{k}={v}'
                 for k, v in QUICK_BUILD.items()]
    opts += [f'model.encoders.{m}.base_channels=4'
             for m in ('audio', 'visual')]
    return opts


def train(config, work_dir: str, options: List[str], repo=REPO) -> float:
    """Wall seconds of one ``tools/train.py`` run of the code in ``repo``
    (its own ``armlab`` package first on the path)."""
    shutil.rmtree(work_dir, ignore_errors=True)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(repo), env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, 'tools/train.py',
         str(config).replace(str(REPO), str(repo)), '--work-dir',
         osp.abspath(work_dir), '--cfg-options', *options],
        cwd=repo, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f'training {relative(config)} failed:\n'
                           f'{proc.stderr[-3000:]}')
    return wall


def baseline_worktree(rev: str) -> str:
    """A temporary git worktree of ``rev`` (removed by the caller)."""
    folder = tempfile.mkdtemp(prefix='armlab_baseline_')
    shutil.rmtree(folder)
    subprocess.run(['git', 'worktree', 'add', '--detach', folder, rev],
                   cwd=REPO, check=True, capture_output=True, text=True)
    return folder


def remove_worktree(folder: str) -> None:
    subprocess.run(['git', 'worktree', 'remove', '--force', folder],
                   cwd=REPO, capture_output=True, text=True)


def test_at_best(config, work_dir: str, options: List[str]) -> Dict:
    """Test-split metrics at the best-validation checkpoint, computed as
    ``tools/test.py --split test`` does (``eval_config``), in this process."""
    from mmengine.config import DictAction
    from mmengine.runner import Runner

    from armlab.engine.checkpoint_eval import eval_config
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg_options = parser.parse_args(['--cfg-options', *options]).cfg_options
    cfg = eval_config(str(config), best_checkpoint(work_dir),
                      osp.join(work_dir, 'test_at_best'), 'test', cfg_options)
    cfg.experiment_name = f'test_at_best_{time.time_ns()}'
    metrics = Runner.from_cfg(cfg).test()
    return {k: float(metrics[k]) for k in TEST_KEYS if k in metrics}


def main() -> None:
    args = parse_args()
    env = environment(seed=args.seed)
    work_root = args.work_root
    data_root = osp.abspath(args.data_root or DEFAULT_DATA_ROOT)
    if args.quick:
        args.epochs = 1
        work_root = tempfile.mkdtemp(prefix='armlab_e2e_')
        data_root = osp.abspath(args.data_root or
                                osp.join(work_root, 'avdigits'))
    common = [f'{loader}.dataset.data_root={data_root}' for loader in LOADERS]
    common += [f'randomness.seed={args.seed}',
               f'train_cfg.max_epochs={args.epochs}',
               f'param_scheduler.0.end={args.epochs}']
    if args.quick:
        common += quick_options(data_root)

    baseline = None
    if args.baseline_rev and not args.quick:
        baseline = baseline_worktree(args.baseline_rev)
    runs: Dict[str, List[dict]] = {}
    try:
        for round_ in range(args.repeats):
            run_round(args, round_, work_root, common, baseline, runs)
    finally:
        if baseline:
            remove_worktree(baseline)
    wall = {case: statistics.median(r['wall_s'] for r in rs)
            for case, rs in runs.items()}
    old_joint = wall.get('joint_baseline', wall['joint_old'])
    result = dict(
        env, args=vars(args),
        configs={m: relative(c) for m, c in CONFIGS.items()},
        data_root=data_root,
        baseline_rev=args.baseline_rev if baseline else None,
        scope='tools/train.py wall time, start-up, validation every epoch '
        'and checkpoints included; test at the best-validation checkpoint '
        'not timed',
        wall_s=wall, runs=runs,
        test={case: {k: rs[-1][k] for k in TEST_KEYS}
              for case, rs in runs.items()},
        ratio_new_over_old_joint=wall['joint_new'] / old_joint,
        ratio_new_over_per_sample_joint=wall['joint_new'] / wall['joint_old'],
        ratio_new_over_old_arm=wall['arm_new'] / wall['arm_old'],
        ratio_arm_over_joint_new=wall['arm_new'] / wall['joint_new'],
        ratio_arm_over_joint_old=wall['arm_old'] / wall['joint_old'],
        ratio_arm_steps_over_joint_new=(
            wall['arm_new_steps'] / wall['joint_new']
            if 'arm_new_steps' in wall else None),
        ratio_old_stacked_over_old_joint=(
            wall['joint_old_stacked'] / wall['joint_old']
            if 'joint_old_stacked' in wall else None),
        targets=dict(ratio_new_over_old_joint=0.40,
                     ratio_arm_over_joint_new=1.05))
    result['meets_targets'] = dict(
        ratio_new_over_old_joint=result['ratio_new_over_old_joint'] <= 0.40,
        ratio_arm_over_joint_new=result['ratio_arm_over_joint_new'] <= 1.05)
    write_result(result, args.out)
    if args.quick:
        shutil.rmtree(work_root, ignore_errors=True)


def run_round(args, round_: int, work_root: str, common: List[str],
              baseline, runs: Dict[str, List[dict]]) -> None:
    """One round of every case, in the alternated order."""
    for method, config in CONFIGS.items():
        paths = ['old', 'new']
        if method == 'joint' and not (args.no_stacked or args.quick):
            paths.insert(1, 'old_stacked')
        if method == 'joint' and baseline:
            paths.insert(0, 'baseline')
        if method == 'arm' and not args.no_arm_steps:
            paths.append('new_steps')
        for path in paths:
            case = f'{method}_{path}'
            work_dir = osp.join(work_root, f'{case}_r{round_}')
            # The baseline's configs know none of the new keys; its test
            # reads the same data as this code's per-sample path.
            opts = common + path_options('new' if path == 'baseline'
                                         else path)
            wall = train(config, work_dir, opts,
                         repo=baseline if path == 'baseline' else REPO)
            test = test_at_best(config, work_dir, common + path_options(
                {'baseline': 'old', 'new_steps': 'new'}.get(path, path)))
            runs.setdefault(case, []).append(dict(
                wall_s=wall, **{k: test.get(k) for k in TEST_KEYS}))
            print(f'{case} round {round_}: {wall:.1f} s, test '
                  f'{ {k: runs[case][-1][k] for k in TEST_KEYS} }',
                  flush=True)


if __name__ == '__main__':
    os.chdir(REPO)
    from armlab.utils import register_all_modules
    register_all_modules()
    main()

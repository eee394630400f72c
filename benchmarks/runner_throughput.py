"""Training throughput of armlab's mmengine Runner against a bare PyTorch loop.

Both train the joint model of configs/joint/joint_concat_resnet18_avdigits.py
(``--width`` base channels) on the same in-memory dataset of AV-Digits'
packed shapes (random tensors, ``--samples`` of them), with the same seed and
weight initialisation, batches of ``--batch`` collated by mmengine's
``pseudo_collate`` in the main process, SGD as in the config, and the same
torch threads:

* runner: the real path, ``Runner.from_cfg`` on the config with the data
  swapped for the in-memory dataset, validation and checkpoints off and the
  logging interval out of reach; every other hook, the optimiser wrapper,
  the one-cycle scheduler and the balancer's ``train_step`` run as in
  training. A hook times the loop from the end of iteration ``--warmup`` to
  the end of the last epoch, so the runner's build is not counted.
* bare: ``for batch in DataLoader: preprocess, forward, backward, step``,
  timed over the same iterations.

They alternate ``--repeats`` times (bare, runner, bare, runner ...), each on
a freshly built model; the medians of samples/s and their ratio runner/bare
are reported. Target: ratio >= 0.97.

Usage: ``python benchmarks/runner_throughput.py [--samples 1024]
[--epochs 2] [--repeats 5]``; results are printed and written to
``benchmarks/results/runner_throughput.json``.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.hooks import Hook
from mmengine.runner import Runner, set_random_seed
from mmpretrain.structures import DataSample
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (AVDIGITS_SHAPES, JOINT_CONFIG,  # noqa: E402
                           NUM_CLASSES, RESULTS, environment,
                           init_weights_quietly, load_config, relative,
                           set_threads, synchronize, write_result)

from armlab.registry import DATASETS, HOOKS, MODELS  # noqa: E402
from armlab.utils import limit_blas_threads, register_all_modules  # noqa: E402

TARGET_RATIO = 0.97


@DATASETS.register_module()
class BenchmarkRandomAVDigits(Dataset):
    """``num_samples`` packed AV-Digits samples of random values, in memory:
    what the train pipeline hands the collate function, without its cost."""

    metainfo = dict(classes=tuple(str(k) for k in range(NUM_CLASSES)))

    def __init__(self, num_samples: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, NUM_CLASSES, (num_samples, ),
                                    generator=g)
        self.audio = torch.randn(num_samples, *AVDIGITS_SHAPES['audio'],
                                 generator=g)
        self.visual = 33 + 78 * torch.randn(
            num_samples, *AVDIGITS_SHAPES['visual'], generator=g)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=dict(audio=self.audio[idx],
                                visual=self.visual[idx]),
                    data_samples=DataSample().set_gt_label(
                        int(self.labels[idx])))


class LoopTimer:
    """Counts samples and time after ``warmup`` iterations."""

    def __init__(self, warmup: int, device: str):
        self.warmup, self.device = warmup, device
        self.start = self.seconds = None
        self.samples = 0

    def after_iter(self, iteration: int, batch: dict) -> None:
        if iteration + 1 == self.warmup:
            synchronize(self.device)
            self.start = time.perf_counter()
        elif iteration + 1 > self.warmup:
            self.samples += len(batch['data_samples'])

    def stop(self) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self.start

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds


@HOOKS.register_module()
class ThroughputTimerHook(Hook):
    """The runner's side of :class:`LoopTimer`; last of its hooks."""

    priority = 'LOWEST'

    def __init__(self, warmup: int, device: str):
        self.timer = LoopTimer(warmup, device)
        self.checksum = None

    def before_train(self, runner) -> None:
        self.checksum = param_checksum(runner.model)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.timer.after_iter(runner.iter, data_batch)

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == runner.max_epochs:
            self.timer.stop()


def param_checksum(model) -> float:
    """Sum of all parameters: equal initialisations give equal sums."""
    return float(sum(p.detach().double().sum() for p in model.parameters()))


def runner_config(args, repeat: int, work_dir: str):
    cfg = load_config(JOINT_CONFIG, args.width)
    cfg.train_dataloader = dict(
        batch_size=args.batch, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='BenchmarkRandomAVDigits',
                     num_samples=args.samples, seed=args.seed))
    cfg.train_cfg = dict(by_epoch=True, max_epochs=args.epochs)
    for stage in ('val', 'test'):
        cfg[f'{stage}_cfg'] = cfg[f'{stage}_dataloader'] = None
        cfg[f'{stage}_evaluator'] = None
    cfg.param_scheduler[0].end = args.epochs
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10**9
    cfg.custom_hooks = [dict(type='ThroughputTimerHook', warmup=args.warmup,
                             device=get_device())]
    cfg.randomness = dict(seed=args.seed, deterministic=False)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'runner_throughput_{repeat}'
    cfg.log_level = 'WARNING'
    return cfg


def run_runner(args, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as work_dir:
        start = time.perf_counter()
        runner = Runner.from_cfg(runner_config(args, repeat, work_dir))
        build_s = time.perf_counter() - start
        runner.train()
        hook = next(h for h in runner.hooks
                    if isinstance(h, ThroughputTimerHook))
    return dict(samples_per_s=hook.timer.samples_per_s, build_s=build_s,
                checksum=hook.checksum, timed_samples=hook.timer.samples)


def run_bare(args) -> dict:
    cfg = load_config(JOINT_CONFIG, args.width)
    device = get_device()
    set_random_seed(args.seed)
    model = MODELS.build(cfg.model)
    init_weights_quietly(model)
    model.to(device).train()
    checksum = param_checksum(model)
    optimizer = torch.optim.SGD(model.parameters(),
                                **{k: v for k, v in
                                   cfg.optim_wrapper.optimizer.items()
                                   if k != 'type'})
    loader = DataLoader(
        BenchmarkRandomAVDigits(args.samples, args.seed),
        batch_size=args.batch, shuffle=True, num_workers=0,
        collate_fn=pseudo_collate,
        generator=torch.Generator().manual_seed(args.seed))
    timer = LoopTimer(args.warmup, device)
    iteration = 0
    for _ in range(args.epochs):
        for batch in loader:
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            timer.after_iter(iteration, batch)
            iteration += 1
    timer.stop()
    return dict(samples_per_s=timer.samples_per_s, checksum=checksum,
                timed_samples=timer.samples)


def measure(args) -> dict:
    runs = {'bare': [], 'runner': []}
    threads = torch.get_num_threads()
    for repeat in range(args.repeats):
        runs['bare'].append(run_bare(args))
        runs['runner'].append(run_runner(args, repeat))
        if torch.get_num_threads() != threads:
            raise RuntimeError(f'the runner changed the torch threads from '
                               f'{threads} to {torch.get_num_threads()}')
        print(f'repeat {repeat + 1}/{args.repeats}: bare '
              f"{runs['bare'][-1]['samples_per_s']:.1f}, runner "
              f"{runs['runner'][-1]['samples_per_s']:.1f} samples/s",
              file=sys.stderr)
    med = {k: float(np.median([r['samples_per_s'] for r in v]))
           for k, v in runs.items()}
    return dict(
        bare_samples_per_s=med['bare'], runner_samples_per_s=med['runner'],
        ratio_runner_over_bare=med['runner'] / med['bare'],
        target_ratio=TARGET_RATIO,
        meets_target=med['runner'] / med['bare'] >= TARGET_RATIO,
        runner_build_s=float(np.median([r['build_s']
                                        for r in runs['runner']])),
        same_initialisation=all(
            abs(b['checksum'] - r['checksum']) < 1e-6 * abs(b['checksum'])
            for b, r in zip(runs['bare'], runs['runner'])),
        timed_samples_per_run=runs['bare'][0]['timed_samples'],
        device=get_device(),
        samples_per_s_each_repeat={
            k: [r['samples_per_s'] for r in v] for k, v in runs.items()})


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=1024,
                        help='size of the in-memory training set')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--width', type=int, default=16,
                        help='encoder base channels (configs: 16)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='first iterations left out of the timing')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int,
                        help="torch threads (default: torch's, one per "
                        'core; --quick: 1)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes and 2 repeats (a smoke run for '
                        'tests/tools/test_benchmarks.py, not a measurement)')
    parser.add_argument('--out',
                        default=str(RESULTS / 'runner_throughput.json'))
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.batch, args.epochs, args.width = 64, 16, 1, 4
        args.warmup, args.repeats = 1, 2
        args.threads = args.threads or 1
    if args.samples // args.batch * args.epochs <= args.warmup:
        parser.error('--samples // --batch * --epochs must exceed --warmup')
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    set_threads(args.threads)
    result = dict(environment(args.seed), args=vars(args),
                  config=relative(JOINT_CONFIG),
                  scope='training loop on in-memory data in the main '
                  'process; runner build, validation and checkpoints '
                  'excluded')
    result['throughput'] = measure(args)
    write_result(result, args.out)


if __name__ == '__main__':
    main()

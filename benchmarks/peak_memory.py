"""Peak memory of one training step: joint training, ARM and every method.

For joint training and the audio-dominant default config of each method
directory (the configs balancer_cost.py finds), a fresh Python process builds
the model from the config at ``--width`` base channels, its optimiser, one
batch of ``--batch`` in-memory samples of AV-Digits' shapes and the state
the method's epoch-level hook would have set, then runs ``--steps``
training steps (``model.train_step``, epoch ``--epoch``). One process per
config, so that peaks do not mix: the child reports its peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after the imports, after the
build and after the step(s); the step's cost is peak - after build. On CUDA
(``--device cuda``, or ``auto`` when a GPU is there) it also reports
``torch.cuda.max_memory_allocated`` over the step(s) and what the model,
optimiser and batch hold before them.

No target: the table tells what a method needs beyond joint training.
The first step creates the optimiser's momentum buffers and the balancers'
lazily sized buffers, so one step (the default) is the peak of a run's
steps up to allocator noise. Epoch-level hook passes are not included.

Usage: ``python benchmarks/peak_memory.py [--width 16] [--batch 64]``;
results are printed and written to ``benchmarks/results/peak_memory.json``.
"""
import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (JOINT_CONFIG, REPO, RESULTS,  # noqa: E402
                           build_trainable, environment, error_text,
                           make_batches, method_configs, relative,
                           set_epoch, set_threads, short_name, synchronize,
                           write_result)

#: The child's last stdout line carries its measurement.
RESULT_TAG = 'PEAK_MEMORY_RESULT '


def maxrss_mb() -> float:
    """Peak resident set of this process so far (Linux reports KiB)."""
    scale = 1024 if sys.platform != 'darwin' else 1024 * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


# -- child: one config ------------------------------------------------------------
def child(args) -> dict:
    import torch

    from armlab.utils import limit_blas_threads, register_all_modules
    register_all_modules()
    limit_blas_threads()
    set_threads(args.threads)
    out = dict(rss_after_imports_mb=maxrss_mb())
    device = args.device
    batches = make_batches(1, args.batch, args.seed)
    model, optim = build_trainable(Path(args.child), args.width, batches,
                                   args.seed, device)
    set_epoch(model, args.epoch)
    out.update(model=type(model).__name__,
               balancer=type(model.balancer).__name__,
               parameters=sum(p.numel() for p in model.parameters()),
               rss_after_build_mb=maxrss_mb())
    if device.startswith('cuda'):
        synchronize(device)
        torch.cuda.reset_peak_memory_stats()
        out['cuda_allocated_before_step_mb'] = \
            torch.cuda.memory_allocated() / 2**20
    for _ in range(args.steps):
        model.train_step(batches[0], optim)
    synchronize(device)
    out['peak_rss_mb'] = maxrss_mb()
    out['step_rss_increase_mb'] = out['peak_rss_mb'] - out[
        'rss_after_build_mb']
    if device.startswith('cuda'):
        out['cuda_peak_allocated_mb'] = \
            torch.cuda.max_memory_allocated() / 2**20
        out['cuda_step_increase_mb'] = out['cuda_peak_allocated_mb'] - out[
            'cuda_allocated_before_step_mb']
    return out


# -- parent: one child per config -------------------------------------------------
def run_child(path: Path, device: str, args) -> dict:
    command = [sys.executable, __file__, '--child', str(path),
               '--device', device, '--width', str(args.width),
               '--batch', str(args.batch), '--steps', str(args.steps),
               '--epoch', str(args.epoch), '--seed', str(args.seed)]
    if args.threads:
        command += ['--threads', str(args.threads)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          timeout=args.timeout)
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ['no output'])[-1]
        return dict(status=f'failed: {tail}'[:300])
    row = json.loads(lines[-1][len(RESULT_TAG):])
    row.update(status='ok', wall_s=time.perf_counter() - start)
    return row


def cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()


def measure(args) -> dict:
    configs = {'joint': JOINT_CONFIG, **method_configs(args.all_variants)}
    if args.methods:
        unknown = sorted(set(args.methods) - set(configs))
        if unknown:
            raise SystemExit(f'unknown methods {unknown}; found '
                             f'{sorted(configs)}')
        configs = {k: v for k, v in configs.items()
                   if k == 'joint' or k in args.methods}
    configs.update({short_name(Path(p)): Path(p) for p in args.extra_configs})
    devices = ['cpu']
    if args.device == 'cuda' or (args.device == 'auto' and cuda_available()):
        devices.append('cuda')
    table = {}
    for device in devices:
        rows = {}
        for name, path in configs.items():
            try:
                rows[name] = run_child(path, device, args)
            except subprocess.TimeoutExpired as err:
                rows[name] = dict(status=error_text(err))
            rows[name]['config'] = relative(path)
            print(f'{device} {name}: {rows[name].get("status")}',
                  file=sys.stderr)
        joint = rows['joint']
        for name, row in rows.items():
            if row['status'] != 'ok' or joint['status'] != 'ok':
                continue
            row['step_rss_increase_over_joint_mb'] = (
                row['step_rss_increase_mb'] - joint['step_rss_increase_mb'])
            row['peak_rss_ratio_over_joint'] = (row['peak_rss_mb'] /
                                                joint['peak_rss_mb'])
            if device == 'cuda':
                row['cuda_peak_ratio_over_joint'] = (
                    row['cuda_peak_allocated_mb'] /
                    joint['cuda_peak_allocated_mb'])
        table[device] = rows
    return table


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--width', type=int, default=16,
                        help='encoder base channels (configs: 16)')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--steps', type=int, default=1)
    parser.add_argument('--epoch', type=int, default=2,
                        help='MessageHub epoch of the step (2: every '
                        "shipped method's window is in force and AMST "
                        'updates both modalities)')
    parser.add_argument('--device', default='auto',
                        choices=['auto', 'cpu', 'cuda'],
                        help='cpu always; cuda too with auto and a GPU')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int,
                        help="torch threads (default: torch's; --quick: 1)")
    parser.add_argument('--methods', nargs='+',
                        help='only these method names (joint is always in)')
    parser.add_argument('--all-variants', action='store_true',
                        help='every *_resnet18_avdigits.py config')
    parser.add_argument('--extra-configs', nargs='+', default=[],
                        help='more configs to measure (named by file stem)')
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds per child')
    parser.add_argument('--quick', action='store_true',
                        help='joint and ARM only, tiny sizes, CPU (a smoke '
                        'run for tests/tools/test_benchmarks.py)')
    parser.add_argument('--out', default=str(RESULTS / 'peak_memory.json'))
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.width, args.batch, args.device = 4, 8, 'cpu'
        args.methods = args.methods or ['arm']
        args.threads = args.threads or 1
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        print(RESULT_TAG + json.dumps(child(args)))
        return
    set_threads(args.threads)
    result = dict(environment(args.seed), args=vars(args),
                  scope='one training step of each config in its own '
                  'process; epoch-level hook passes excluded',
                  memory=measure(args))
    write_result(result, args.out)


if __name__ == '__main__':
    main()

"""Per-step cost of every balancer over joint training's, in one table.

For the audio-dominant default config of each method directory (globbed from
``configs/*/*_resnet18_avdigits.py`` when the script runs: the config with a
``-visual-dominant`` twin, or the only one; unimodal and joint configs are not
methods), the model is built from the config (``MODELS.build(cfg.model)``,
``--width`` base channels), its optimiser from the config's ``optim_wrapper``,
and ``--steps`` training steps (``model.train_step(data, optim_wrapper)``,
the runner's call) are timed on the same in-memory batches of AV-Digits'
shapes, per epoch of ``--epochs``. Joint training (configs/joint/
joint_concat_resnet18_avdigits.py) and each method alternate ``--repeats``
times; the ratio of the median step times, method / joint, is reported.
A config that fails to build or to step is reported as ``failed: <error>``.

Scope: the training step only, with the state that each method's epoch-level
hook would have given its balancer (ARM: its warm-up, and the epoch in the
message hub; MLA: the epoch length; PMR: prototypes from one batch) set by
hand. The hooks'
epoch-level passes (ARMHook's valuation, PMRHook's prototypes, the modality
valuation hooks) and the data pipeline are not in this measure: arm_cost.py
measures ARM's, and end-to-end runs (tools/analysis/compare_methods.py)
report wall time per epoch. Methods that act through the data (the
re-sampling of ARM and of modality valuation, whose valuation-sample config
trains with the plain joint step) show only their step here; the
valuation's 'repeat' plan also makes its epochs longer. ``--epochs 2 3``
(the default) puts every method's window in force (OGM-GE 0-4, PMR 0-6, ARM
and Greedy from 2) and covers both halves of AMST's alternation (audio skip
factor 2).

No target: the table is what a user pays per step for each method.

Usage: ``python benchmarks/balancer_cost.py [--steps 10] [--repeats 5]``;
results are printed and written to ``benchmarks/results/balancer_cost.json``.
"""
import argparse
import sys
import traceback
from pathlib import Path
from typing import Dict

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (JOINT_CONFIG, RESULTS, build_trainable,  # noqa: E402
                    environment, error_text, make_batches, method_configs,
                    relative, set_threads, short_name, time_steps,
                    write_result)

from armlab.utils import limit_blas_threads, register_all_modules  # noqa


def measure(args, methods: Dict[str, Path]) -> dict:
    batches = make_batches(args.steps, args.batch, args.seed)
    models, rows = {}, {}
    for name, path in [('joint', JOINT_CONFIG), *methods.items()]:
        rows[name] = dict(config=relative(path))
        try:
            model, optim = build_trainable(path, args.width, batches,
                                           args.seed, args.device)
            rows[name].update(model=type(model).__name__,
                              balancer=type(model.balancer).__name__)
            # Warm-up: first-call allocations, lazily sized buffers.
            time_steps(model, optim, batches[:2], args.epochs[:1],
                       args.device)
            models[name] = (model, optim)
        except Exception as err:  # reported, the others still run
            rows[name]['status'] = error_text(err)
            if args.verbose:
                traceback.print_exc()
    if 'joint' not in models:
        raise RuntimeError(f"the joint baseline failed: {rows['joint']}")
    times = {name: [] for name in models}
    joint_pairs = {name: [] for name in models if name != 'joint'}
    for repeat in range(args.repeats):
        if not joint_pairs:  # every method failed: joint's time alone
            times['joint'].append(time_steps(*models['joint'], batches,
                                             args.epochs, args.device))
        for name in list(joint_pairs):
            # Joint right before each method: a load change on a shared
            # machine hits both sides of the ratio.
            joint_time = time_steps(*models['joint'], batches, args.epochs,
                                    args.device)
            times['joint'].append(joint_time)
            try:
                times[name].append(time_steps(*models[name], batches,
                                              args.epochs, args.device))
                joint_pairs[name].append(joint_time)
            except Exception as err:
                rows[name]['status'] = error_text(err)
                del joint_pairs[name]
        print(f'repeat {repeat + 1}/{args.repeats} done', file=sys.stderr)
    joint_ms = 1e3 * float(np.median(times['joint']))
    rows['joint'].update(status='ok', step_ms=joint_ms, ratio_over_joint=1.0)
    for name, pairs in joint_pairs.items():
        step_ms = 1e3 * float(np.median(times[name]))
        paired_joint_ms = 1e3 * float(np.median(pairs))
        rows[name].update(status='ok', step_ms=step_ms,
                          joint_step_ms=paired_joint_ms,
                          ratio_over_joint=step_ms / paired_joint_ms,
                          samples_per_s=1e3 * args.batch / step_ms)
    rows['joint']['samples_per_s'] = 1e3 * args.batch / joint_ms
    return rows


def print_table(rows: dict) -> None:
    print(f"{'method':<22}{'balancer':<22}{'step ms':>9}{'ratio':>8}",
          file=sys.stderr)
    for name, row in rows.items():
        if row.get('status') == 'ok':
            print(f"{name:<22}{row['balancer']:<22}{row['step_ms']:>9.1f}"
                  f"{row['ratio_over_joint']:>8.3f}", file=sys.stderr)
        else:
            print(f"{name:<22}{row.get('status')}", file=sys.stderr)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=10,
                        help='timed steps (distinct batches) per epoch')
    parser.add_argument('--epochs', type=int, nargs='+', default=[2, 3],
                        help='epochs the steps run in (MessageHub epoch)')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--width', type=int, default=16,
                        help='encoder base channels (configs: 16)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu',
                        help="'cpu' or 'cuda'")
    parser.add_argument('--threads', type=int,
                        help="torch threads (default: torch's, one per "
                        'core; --quick: 1)')
    parser.add_argument('--methods', nargs='+',
                        help='only these method names (e.g. arm ogm-ge)')
    parser.add_argument('--all-variants', action='store_true',
                        help='every *_resnet18_avdigits.py config, ablations '
                        'and joint fusions included')
    parser.add_argument('--extra-configs', nargs='+', default=[],
                        help='more configs to measure (named by file stem), '
                        'e.g. your own outside configs/')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes and 2 repeats (a smoke run for '
                        'tests/tools/test_benchmarks.py, not a measurement)')
    parser.add_argument('--verbose', action='store_true',
                        help='print the traceback of a failed config')
    parser.add_argument('--out', default=str(RESULTS / 'balancer_cost.json'))
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.width, args.repeats = 3, 8, 4, 2
        args.threads = args.threads or 1
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    set_threads(args.threads)
    methods = method_configs(args.all_variants)
    if args.methods:
        unknown = sorted(set(args.methods) - set(methods))
        if unknown:
            raise SystemExit(f'unknown methods {unknown}; found '
                             f'{sorted(methods)}')
        methods = {k: v for k, v in methods.items() if k in args.methods}
    methods.update({short_name(Path(p)): Path(p) for p in args.extra_configs})
    result = dict(environment(args.seed), args=vars(args),
                  scope='training step only (model.train_step on in-memory '
                  'batches, hook state set by hand); epoch-level hook passes '
                  'and data loading excluded')
    result['methods'] = measure(args, methods)
    print_table(result['methods'])
    write_result(result, args.out)


if __name__ == '__main__':
    main()

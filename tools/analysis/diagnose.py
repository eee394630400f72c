"""Diagnose a multimodal dataset before choosing a balancing method.

Trains the two short references on the dataset of a joint-training CONFIG:
joint training itself and the unimodal ensemble (each modality trained alone
on its own loss, probabilities averaged; configs/unimodal_ensemble), then
reports, on the **validation** split (the numbers a method choice may use):

- which modality is weak: the one joint training under-trains most (the
  largest gap between its accuracy trained alone and its masked accuracy in
  the joint model; the lowest masked accuracy can name the other one, when
  a modality dominates the optimisation but generalises poorly);
- its masked headroom: its accuracy trained alone (the ensemble's member)
  minus its masked accuracy inside the joint model; with ``--probe``, the
  same for a linear probe on each frozen encoder;
- the fused headroom: the ensemble's fused accuracy minus joint training's.
  Positive: the modalities compete inside the joint model and a balancing
  method has room; near zero or negative: joint training already uses both;
- the joint model's Shapley shares (how much each modality contributes);
- the references' validation curves (``curves.png``).

Usage::

    python tools/analysis/diagnose.py CONFIG [--epochs 4] [--seed 0] \
        [--work-dir work_dirs/diagnose/NAME] [--probe] [--cfg-options ...]

CONFIG must be plain joint training (no balancer): it is the reference the
headroom is measured against. Writes ``diagnosis.md``, ``diagnosis.json``
and ``curves.png`` in the work dir.
"""
import argparse
import json
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_methods import (probe_at_best, train_and_test,  # noqa: E402
                             weak_modality)
from mmengine.config import Config  # noqa: E402

from armlab.models.classifiers.multimodal import \
    configured_modalities  # noqa: E402

ENSEMBLE_BASE = REPO / 'configs' / '_base_' / 'methods' / \
    'unimodal_ensemble.py'
JOINT_BALANCERS = (None, 'Balancer', 'JointTraining')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='joint-training config of the dataset')
    parser.add_argument('--epochs', type=int, help='train this many epochs '
                        '(the learning-rate schedule shrunk to match); '
                        "default: the config's")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', help='default: work_dirs/diagnose/'
                        '<config name>')
    parser.add_argument('--probe', action='store_true',
                        help='also fit a linear probe on each frozen encoder')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to both runs (key=value)')
    return parser.parse_args()


def check_joint(cfg: Config, path: str) -> None:
    """The reference must be plain joint training of a multimodal model."""
    balancer = (cfg.model.get('balancer') or {}).get('type')
    if balancer not in JOINT_BALANCERS:
        raise ValueError(
            f'{path}: model.balancer is {balancer}; diagnose.py measures '
            'headroom against plain joint training, so give it the '
            "dataset's joint config (e.g. configs/joint/...)")
    if len(configured_modalities(cfg.model)) < 2:
        raise ValueError(f'{path}: needs at least two modality encoders')


def schedule_options(cfg: Config, epochs: Optional[int]) -> List[str]:
    """--cfg-options that shorten training to ``epochs`` epochs, every
    epoch-based scheduler's ``end`` moved with it."""
    if not epochs:
        return []
    opts = [f'train_cfg.max_epochs={epochs}']
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers):
        if sched.get('end') is not None and sched.get('by_epoch', True):
            opts.append(f'param_scheduler.{i}.end={epochs}')
    return opts


def ensemble_config(config: str, work_dir: str) -> str:
    """A config file: ``config`` with the unimodal-ensemble method."""
    path = osp.join(work_dir, 'unimodal_ensemble.py')
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.abspath(config)!r}, '
                f'{str(ENSEMBLE_BASE)!r}]\n'
                'model = _base_.unimodal_ensemble_model\n')
    return path


def diagnosis(joint: Dict[str, float], ensemble: Dict[str, float],
              modalities: List[str]) -> dict:
    """The headrooms, from the two references' validation metrics."""
    masked = {m: joint[f'val/acc_{m}_mask'] for m in modalities}
    alone = {m: ensemble[f'val/acc_{m}_mask'] for m in modalities}
    weak = weak_modality(masked, alone)
    out = {
        'weak_modality': weak,
        'joint_fused': joint['val/accuracy/top1'],
        'ensemble_fused': ensemble['val/accuracy/top1'],
        'fused_headroom': ensemble['val/accuracy/top1'] -
        joint['val/accuracy/top1'],
        'joint_masked': masked,
        'alone': alone,
        'masked_headroom': alone[weak] - masked[weak],
        'joint_shapley_share': {
            m: joint.get(f'val/shapley_share_{m}') for m in modalities},
    }
    if f'val/probe_{weak}' in joint and f'val/probe_{weak}' in ensemble:
        out['probe_joint'] = joint[f'val/probe_{weak}']
        out['probe_alone'] = ensemble[f'val/probe_{weak}']
        out['probe_headroom'] = out['probe_alone'] - out['probe_joint']
    return out


def report(d: dict, command: str) -> str:
    weak = d['weak_modality']
    lines = [f'# Diagnosis: {command.split()[2]}', '',
             f'Produced by `{command}`. Validation split, best validation '
             'epoch of each reference.', '',
             '| | joint training | unimodal ensemble | headroom |',
             '|---|---|---|---|',
             f"| fused top-1 | {d['joint_fused']:.1f} | "
             f"{d['ensemble_fused']:.1f} | {d['fused_headroom']:+.1f} |"]
    for m in d['joint_masked']:
        head = d['alone'][m] - d['joint_masked'][m]
        lines.append(f"| {m} (masked / alone) | {d['joint_masked'][m]:.1f} "
                     f"| {d['alone'][m]:.1f} | {head:+.1f} |")
    if 'probe_headroom' in d:
        lines.append(f"| {weak} probe | {d['probe_joint']:.1f} | "
                     f"{d['probe_alone']:.1f} | {d['probe_headroom']:+.1f} |")
    shares = ', '.join(f'{m} {v:.0f} %' for m, v in
                       d['joint_shapley_share'].items() if v is not None)
    verdict = ('joint training falls below the unimodal ensemble: the '
               'modalities compete inside the joint model, and a balancing '
               'method has room' if d['fused_headroom'] > 0 else
               'joint training is not below the unimodal ensemble: it '
               'already uses both modalities as well as separate models do')
    lines += ['', f'Weak modality: **{weak}** (the one the joint model '
              f"under-trains most): {d['masked_headroom']:.1f} points below "
              'itself trained alone. Joint model Shapley shares: '
              f'{shares}.', '', f'Verdict: {verdict}.', '',
              '![validation curves](curves.png)', '']
    return '\n'.join(lines)


def plot_references(work_dirs: Dict[str, str], modalities: List[str],
                    path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from armlab.utils.scalars import epoch_series, load_scalars
    keys = ['accuracy/top1'] + [f'acc_{m}_mask' for m in modalities]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, key in zip(axes, keys):
        for label, work_dir in work_dirs.items():
            x, y = epoch_series(load_scalars(work_dir), key)
            ax.plot(x, y, marker='o', markersize=3, label=label)
        ax.set_title(f'val {key}')
        ax.set_xlabel('epoch')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('accuracy (%)')
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    args = parse_args()
    command = 'python tools/analysis/diagnose.py ' + ' '.join(sys.argv[1:])
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    check_joint(cfg, args.config)
    modalities = list(configured_modalities(cfg.model))
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'diagnose', osp.splitext(osp.basename(args.config))[0])
    opts = schedule_options(cfg, args.epochs) + args.cfg_options
    runs = {'joint': (args.config, osp.join(work_dir, 'joint')),
            'unimodal ensemble': (ensemble_config(args.config, work_dir),
                                  osp.join(work_dir, 'unimodal_ensemble'))}
    results = {}
    for name, (config, run_dir) in runs.items():
        print(f'[diagnose] training {name} ...', flush=True)
        results[name] = train_and_test(config, args.seed, run_dir, opts,
                                       test=False)
        if args.probe:
            results[name].update(probe_at_best(
                config, run_dir, [f'randomness.seed={args.seed}', *opts],
                split='val'))
    d = diagnosis(results['joint'], results['unimodal ensemble'], modalities)
    plot_references({n: r for n, (_, r) in runs.items()}, modalities,
                    osp.join(work_dir, 'curves.png'))
    text = report(d, command)
    with open(osp.join(work_dir, 'diagnosis.md'), 'w') as f:
        f.write(text)
    with open(osp.join(work_dir, 'diagnosis.json'), 'w') as f:
        json.dump(d, f, indent=1)
    print(text)


if __name__ == '__main__':
    main()

"""Plot ARM's contributions, weights and sampling statistics of a run.

Usage: ``python tools/analysis/plot_arm.py WORK_DIR [--out PNG]``; writes
``WORK_DIR/arm_curves.png`` by default.
"""
import argparse
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from armlab.utils.scalars import (epoch_series, iter_series,  # noqa: E402
                                  keys_with_prefix)
from armlab.visualization import expand_patterns as expand  # noqa: E402
from armlab.visualization import load_run  # noqa: E402

PANELS = [
    ('Validation accuracy (%)', ['accuracy/top1', 'acc_*_mask'], 'epoch'),
    ('Pointwise Shapley information (nats)', ['arm/shapley_*'], 'epoch'),
    ('Shapley share', ['arm/shapley_share_*'], 'epoch'),
    ('Plug-in MI / CMI of masked heads (nats)', ['arm/mi_*', 'arm/cmi_*'],
     'epoch'),
    ('Pointwise MI / CMI (/ H(Y))', ['arm/pointwise_mi_*',
                                    'arm/pointwise_cmi_*'], 'epoch'),
    ('Min-max loss weights (guard paused: 1)', ['arm/loss_weight_*',
                                                'arm/guard_paused'], 'epoch'),
    ('Learning-signal weights', ['arm_weight_*'], 'iter'),
    ('Re-sampling', ['arm/masked_fraction', 'arm/epoch_length'], 'epoch'),
]


def plot(work_dir: str, out: str) -> str:
    rows = load_run(work_dir).rows  # the latest run, resumes merged
    if not keys_with_prefix(rows, 'arm'):
        raise ValueError(f'{work_dir!r} has no ARM scalars: was it trained '
                         'with ARMBalancer and ARMHook?')
    fig, axes = plt.subplots(2, 4, figsize=(20, 8))
    for ax, (title, patterns, axis) in zip(axes.flat, PANELS):
        series = iter_series if axis == 'iter' else epoch_series
        for key in expand(rows, patterns):
            x, y = series(rows, key)
            if key == 'arm/epoch_length' and y:
                y = [v / max(y) for v in y]
                key += ' (/max)'
            ax.plot(x, y, marker='o' if axis == 'epoch' else None,
                    markersize=3, label=key)
        ax.set_title(title)
        ax.set_xlabel('epoch' if axis == 'epoch' else 'iteration')
        if ax.lines:
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(osp.basename(osp.normpath(work_dir)))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='PNG path (default: in the work dir)')
    args = parser.parse_args()
    out = plot(args.work_dir,
               args.out or osp.join(args.work_dir, 'arm_curves.png'))
    print(f'wrote {out}')


if __name__ == '__main__':
    main()

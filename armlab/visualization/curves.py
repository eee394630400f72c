"""Training curves: every logged scalar, one panel per family.

A family is a scalar name with the modality names replaced by ``*``
(``ogm_coeff_audio`` and ``ogm_coeff_visual`` are ``ogm_coeff_*``), so a new
balancer's scalars get their own panel without any change here. A few
families are merged because they are read together: the fused top-1 with the
masked per-modality accuracies (``accuracy``), every loss term (``loss``)
and the timers (``time``). Per-iteration training scalars go on one figure
(x: iteration), per-epoch ones (validation, epoch hooks) on another
(x: epoch).
"""
import json
import math
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from armlab.utils.scalars import (epoch_series, iter_series,  # noqa: E402
                                  keys_with_prefix)
from .workdir import ROW_FIELDS, TrainingRun  # noqa: E402

#: (panel, pattern on the modality-free name): families shown together.
MERGED_FAMILIES = (
    ('accuracy', r'accuracy/top1|acc_\*_mask'),
    ('loss', r'loss.*'),
    ('time', r'(data_)?time'),
)
#: Drawn in bold black wherever it appears: the number everything serves.
FUSED = 'accuracy/top1'
#: Figure file name and x axis of the two kinds of rows.
FIGURES = (('train_curves.png', 'iter'), ('epoch_curves.png', 'epoch'))


def expand_patterns(rows: List[dict], patterns: Sequence[str]) -> List[str]:
    """Scalar names matching ``patterns`` (exact names, or one ``*``)."""
    keys = []
    for pattern in patterns:
        if '*' in pattern:
            head, tail = pattern.split('*')
            keys += [k for k in keys_with_prefix(rows, head)
                     if k.endswith(tail) and k != head + tail]
        elif any(pattern in r for r in rows):
            keys.append(pattern)
    return keys


def family_of(key: str, modalities: Sequence[str]) -> str:
    """The panel a scalar belongs to (see the module docstring)."""
    generic = key
    for m in sorted(modalities, key=len, reverse=True):
        generic = re.sub(rf'(?<![^_/]){re.escape(m)}(?![^_/])', '*', generic)
    for panel, pattern in MERGED_FAMILIES:
        if re.fullmatch(pattern, generic):
            return panel
    return generic


def scalar_families(rows: List[dict], modalities: Sequence[str]
                    ) -> Dict[str, Dict[str, List[str]]]:
    """``{'iter': {family: keys}, 'epoch': {family: keys}}`` of numeric
    scalars, families in first-logged order, keys sorted."""
    out: Dict[str, Dict[str, List[str]]] = {'iter': OrderedDict(),
                                            'epoch': OrderedDict()}
    for row in rows:
        axis = 'iter' if 'iter' in row else 'epoch'
        for key, value in row.items():
            if key in ROW_FIELDS or isinstance(value, bool) or \
                    not isinstance(value, (int, float)):
                continue
            keys = out[axis].setdefault(family_of(key, modalities), [])
            if key not in keys:
                keys.append(key)
    return {axis: OrderedDict((f, sorted(k)) for f, k in fams.items())
            for axis, fams in out.items()}


def plot_panels(rows: List[dict], families: Dict[str, List[str]], axis: str,
                path: str, title: str, columns: int = 4) -> None:
    """One figure, one panel per family."""
    series = iter_series if axis == 'iter' else epoch_series
    n = len(families)
    cols = min(columns, n)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.2 * nrows),
                             squeeze=False)
    for ax, (family, keys) in zip(axes.flat, families.items()):
        for key in sorted(keys, key=lambda k: k != FUSED):
            x, y = series(rows, key)
            style = dict(color='black', linewidth=2.2) if key == FUSED \
                else dict(linewidth=1.2)
            ax.plot(x, y, label=key, marker='o' if axis == 'epoch' else None,
                    markersize=3, **style)
        ax.set_title(family, fontsize=10)
        ax.set_xlabel('iteration' if axis == 'iter' else 'epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curves(run: TrainingRun, out_dir: str, prefix: str = '',
                name: str = '') -> Dict[str, str]:
    """Write ``train_curves.png`` and ``epoch_curves.png`` (where the run
    logged such rows) and ``curves.json`` (figure -> family -> scalar names)
    into ``out_dir``, file names behind ``prefix``; return figure name ->
    path. ``name`` titles the figures (default: the work dir's name)."""
    os.makedirs(out_dir, exist_ok=True)
    families = scalar_families(run.rows, run.modalities)
    title = f'{name or run.name} ({", ".join(run.timestamps)})'
    written, manifest = {}, {}
    for name, axis in FIGURES:
        if not families[axis]:
            continue
        path = osp.join(out_dir, prefix + name)
        plot_panels(run.rows, families[axis], axis, path, title)
        written[name] = path
        manifest[prefix + name] = families[axis]
    with open(osp.join(out_dir, prefix + 'curves.json'), 'w') as f:
        json.dump(dict(work_dir=str(run.work_dir), timestamps=run.timestamps,
                       figures=manifest), f, indent=1)
    return written


def plot_overlay(runs: Sequence[TrainingRun], key: str, path: str,
                 labels: Sequence[str] = (), ylabel: str = '',
                 title: str = '') -> List[str]:
    """One per-epoch scalar of several runs on one axis; returns the labels
    of the runs that logged it."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plotted = []
    for i, run in enumerate(runs):
        x, y = epoch_series(run.rows, key)
        if not x:
            continue
        label = labels[i] if labels else run.name
        ax.plot(x, y, marker='o', markersize=3, label=label)
        plotted.append(label)
    ax.set_xlabel('epoch')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel or key)
    ax.grid(alpha=0.3)
    if plotted:
        ax.legend(fontsize=8)
    ax.set_title(title or key)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return plotted

"""Learning curves: area under them, labels to reach a target, plots."""
from typing import Dict, List, Optional, Sequence

import numpy as np


def normalized_auc(labels: Sequence[float], values: Sequence[float]) -> float:
    """Trapezoid area under values-vs-labels over the label range.

    The area is divided by (labels[-1] - labels[0]), so the result is in the
    values' unit (a mean accuracy over the budget range) and curves over the
    same label counts compare directly.
    """
    x = np.asarray(labels, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError('normalized_auc needs two equal-length 1-D series '
                         f'of at least 2 points, got {x.shape}, {y.shape}')
    if np.any(np.diff(x) <= 0):
        raise ValueError(f'label counts must increase, got {x.tolist()}')
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
    return area / float(x[-1] - x[0])


def labels_to_reach(labels: Sequence[float], values: Sequence[float],
                    target: float) -> Optional[float]:
    """The first label count whose value reaches ``target`` (None: never)."""
    for x, y in zip(labels, values):
        if y >= target:
            return float(x)
    return None


def plot_run(rows: List[Dict], modalities: Sequence[str], path: str,
             title: str = '', split: str = 'test') -> None:
    """Fused and masked per-modality accuracy vs labels, and the gap."""
    curves = {'fused': f'{split}_top1'}
    curves.update({f'{m} (masked)': f'{split}_acc_{m}' for m in modalities})
    series = {name: _series(rows, key) for name, key in curves.items()}
    plot_curves({n: (x, y, None) for n, (x, y) in series.items()},
                {'gap': (*_series(rows, f'{split}_gap'), None)}, path,
                title=title, split=split)


def _series(rows: List[Dict], key: str):
    points = [(r['num_labelled'], r[key]) for r in rows if key in r]
    return [p[0] for p in points], [p[1] for p in points]


def plot_curves(accuracy: Dict[str, tuple], gap: Dict[str, tuple],
                path: str, title: str = '', split: str = 'test') -> None:
    """Two panels: accuracy curves and contribution-gap curves.

    Args:
        accuracy: Name -> (labels, mean values, std values or None).
        gap: Name -> (labels, mean gap, std or None).
        path: PNG to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, curves, ylabel in (
            (axes[0], accuracy, f'{split} top-1 (%)'),
            (axes[1], gap, f'{split} contribution gap (share points)')):
        for name, (x, y, std) in curves.items():
            if not len(x):
                continue
            line, = ax.plot(x, y, marker='o', label=name)
            if std is not None:
                y, std = np.asarray(y), np.asarray(std)
                ax.fill_between(x, y - std, y + std, alpha=0.2,
                                color=line.get_color())
        ax.set_xlabel('labelled samples')
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if any(len(c[0]) for c in curves.values()):
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

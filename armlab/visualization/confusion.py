"""Confusion matrices of the fused prediction and of each masked modality.

The predictions are the ones ``tools/test.py --out`` dumps (one dict per
sample with ``pred_score``, ``gt_label`` and ``modality_scores``):
either read from such a pickle, or made by :func:`predict_split`, which runs
a checkpoint over a split exactly like ``tools/test.py`` (same config
handling, same runner, same metric) and dumps them the same way. The
diagonal over the total of the fused matrix is therefore the top-1 accuracy
that ``tools/test.py`` reports.
"""
import csv
import json
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Per-modality scores that get a matrix: the fused head with one modality.
MODALITY_SUFFIX = '_mask'


def confusion_matrix(pred: Sequence[int], target: Sequence[int],
                     num_classes: int) -> np.ndarray:
    """(K, K) counts; row = true class, column = predicted class."""
    pred = np.asarray(pred, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    for name, labels in (('prediction', pred), ('label', target)):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        if bad.size:
            raise ValueError(f'{name} {int(bad[0])} is outside [0, '
                             f'{num_classes}) classes')
    return np.bincount(target * num_classes + pred,
                       minlength=num_classes ** 2).reshape(
                           num_classes, num_classes)


def _label(value) -> int:
    return int(np.asarray(value).reshape(-1)[0])


def _argmax(scores) -> int:
    return int(np.asarray(scores).reshape(-1).argmax())


def confusions_from_predictions(predictions: List[dict]
                                ) -> Dict[str, np.ndarray]:
    """``{'fused': M, '<m>_mask': M, ...}`` from dumped predictions."""
    if not predictions:
        raise ValueError('no predictions to build a confusion matrix from')
    first = predictions[0]
    for key in ('pred_score', 'gt_label'):
        if key not in first:
            raise KeyError(f'predictions lack {key!r} (they have '
                           f'{sorted(first)}): dump them with tools/test.py '
                           '--out')
    num_classes = int(np.asarray(first['pred_score']).size)
    target = [_label(p['gt_label']) for p in predictions]
    fused = [_label(p['pred_label']) if 'pred_label' in p
             else _argmax(p['pred_score']) for p in predictions]
    out = {'fused': confusion_matrix(fused, target, num_classes)}
    for name in sorted(first.get('modality_scores', {})):
        if name.endswith(MODALITY_SUFFIX):
            pred = [_argmax(p['modality_scores'][name]) for p in predictions]
            out[name] = confusion_matrix(pred, target, num_classes)
    return out


def load_predictions(path: str) -> List[dict]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'predictions file {path!r} not found')
    with open(path, 'rb') as f:
        predictions = pickle.load(f)
    if not isinstance(predictions, list):
        raise ValueError(f'{path}: expected a list of per-sample dicts (from '
                         f'tools/test.py --out), got {type(predictions)}')
    return predictions


def accuracy(matrix: np.ndarray) -> float:
    """Top-1 accuracy in percent: diagonal over total."""
    return float(np.trace(matrix) / max(matrix.sum(), 1) * 100)


def save_csv(matrix: np.ndarray, classes: Sequence[str], path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['true \\ predicted', *classes])
        for name, row in zip(classes, matrix):
            writer.writerow([name, *map(int, row)])


def save_png(matrix: np.ndarray, classes: Sequence[str], path: str,
             title: str) -> None:
    """Counts in the cells, colour = fraction of the true class (recall)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    k = len(classes)
    recall = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    size = max(4.0, 0.45 * k + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(recall, cmap='Blues', vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(j, i, int(matrix[i, j]), ha='center', va='center',
                        fontsize=7,
                        color='white' if recall[i, j] > 0.5 else 'black')
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(classes, rotation=45, ha='right', fontsize=8)
    ax.set_yticklabels(classes, fontsize=8)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, label='fraction of true class')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_confusions(matrices: Dict[str, np.ndarray], out_dir: str,
                    classes: Optional[Sequence[str]] = None,
                    title: str = '') -> Dict[str, dict]:
    """``confusion_<name>.{csv,png}`` per matrix and ``confusion.json``
    (name -> accuracy, total, matrix); returns that summary."""
    os.makedirs(out_dir, exist_ok=True)
    k = next(iter(matrices.values())).shape[0]
    classes = list(classes) if classes else [str(i) for i in range(k)]
    if len(classes) != k:
        raise ValueError(f'{len(classes)} class names for {k} classes')
    summary = {}
    for name, matrix in matrices.items():
        stem = osp.join(out_dir, f'confusion_{name}')
        acc = accuracy(matrix)
        save_csv(matrix, classes, stem + '.csv')
        save_png(matrix, classes, stem + '.png',
                 f'{title} {name}: top-1 {acc:.2f}% of {int(matrix.sum())}'
                 .strip())
        summary[name] = dict(accuracy=acc, total=int(matrix.sum()),
                             matrix=matrix.tolist())
    with open(osp.join(out_dir, 'confusion.json'), 'w') as f:
        json.dump(dict(classes=classes, matrices=summary), f, indent=1)
    return summary


def predict_split(config: str, checkpoint: str, work_dir: str,
                  split: str = 'test', cfg_options: Optional[dict] = None
                  ) -> Tuple[List[dict], Dict[str, float], List[str]]:
    """Run a checkpoint over a split as ``tools/test.py`` does.

    The runner's logs go to ``work_dir`` and the predictions to
    ``work_dir/predictions.pkl``.

    Returns:
        (predictions, the test metrics, class names).
    """
    from mmengine.runner import Runner

    from armlab.engine.checkpoint_eval import eval_config
    from armlab.utils import limit_blas_threads, register_all_modules

    register_all_modules()
    limit_blas_threads()
    dump = osp.join(work_dir, 'predictions.pkl')
    cfg = eval_config(config, checkpoint, work_dir, split, cfg_options,
                      dump_to=dump)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    classes = runner.test_dataloader.dataset.metainfo.get('classes') or []
    return load_predictions(dump), dict(metrics), list(classes)

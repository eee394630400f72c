"""The sentiment metrics of the multimodal sentiment field (CMU-MOSI/MOSEI).

Two families, named without the field's ambiguity about neutral samples:

* **Regression** (a real score in [-3, 3] against the annotators' mean), as
  MMSA reports it: MAE (no clipping), Pearson correlation, and accuracies of
  the score rounded after clipping: Acc-7 (clip to [-3, 3]), Acc-5 ([-2, 2]),
  Acc-3 ([-1, 1]); numpy's round-half-to-even, as the field. Binary:
  ``acc2_has0`` / ``f1_has0`` on every sample, negative (< 0) against
  non-negative (>= 0); ``acc2_non0`` / ``f1_non0`` on the non-zero truths
  only, positive (> 0) against the rest (a prediction of exactly 0 counts
  negative). F1 is sklearn's weighted F1 (per-class F1 weighted by the true
  support).
* **Classification** with three logits (0 negative, 1 neutral, 2 positive),
  as CIDer reports it: Acc-3 / F1-3 on the argmax; ``acc2_has0`` / ``f1_has0``
  predicts 1 when the positive logit exceeds the negative one (a tie goes to
  negative; the neutral logit is ignored), truth 0 iff negative, on all
  samples; ``acc2_non0`` / ``f1_non0`` keeps the non-neutral truths and takes
  the argmax over all three logits, so a neutral prediction counts wrong.

Every value is a percentage except MAE and correlation. No rounding of the
results (MMSA rounds to 4 decimals for display only).
"""
from typing import Dict

import numpy as np


def _as_1d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.size == 0:
        raise ValueError(f'{name} is empty')
    if not np.isfinite(x).all():
        raise ValueError(f'{name} has non-finite values')
    return x


def _accuracy_f1(truth: np.ndarray, pred: np.ndarray) -> Dict[str, float]:
    """Accuracy and weighted F1 (%); NaN on no sample."""
    # sklearn here, not at the top: it would add to every process's start.
    from sklearn.metrics import f1_score
    if truth.size == 0:
        return dict(acc=float('nan'), f1=float('nan'))
    return dict(acc=100.0 * float((truth == pred).mean()),
                f1=100.0 * float(f1_score(truth, pred, average='weighted',
                                          zero_division=0)))


def regression_metrics(pred, target) -> Dict[str, float]:
    """MMSA's regression metrics of scores ``pred`` against ``target``.

    Raises:
        ValueError: shapes differ, an input is empty or not finite.
    """
    pred, target = _as_1d(pred, 'pred'), _as_1d(target, 'target')
    if pred.shape != target.shape:
        raise ValueError(f'pred and target differ in length: {pred.size} '
                         f'and {target.size}')
    out = dict(mae=float(np.abs(pred - target).mean()),
               corr=float(np.corrcoef(pred, target)[0, 1])
               if pred.size > 1 and pred.std() > 0 and target.std() > 0
               else float('nan'))
    for name, bound in (('acc7', 3), ('acc5', 2), ('acc3', 1)):
        p = np.round(np.clip(pred, -bound, bound))
        t = np.round(np.clip(target, -bound, bound))
        out[name] = 100.0 * float((p == t).mean())
    has0 = _accuracy_f1(target >= 0, pred >= 0)
    keep = target != 0
    non0 = _accuracy_f1(target[keep] > 0, pred[keep] > 0)
    out.update(acc2_has0=has0['acc'], f1_has0=has0['f1'],
               acc2_non0=non0['acc'], f1_non0=non0['f1'])
    return out


def _scores_and_labels(scores, labels, num_classes: int):
    """(N, K) float scores and (N,) labels, or a ValueError naming the
    shapes."""
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels).reshape(-1)
    if scores.ndim != 2 or scores.shape[1] != num_classes or \
            scores.shape[0] != labels.size:
        raise ValueError(f'scores must be (N, {num_classes}) with N = '
                         f'{labels.size} labels, got {scores.shape}')
    return scores, labels


def classification_metrics(scores, labels) -> Dict[str, float]:
    """CIDer's three-class metrics of logits ``scores`` (N, 3) against
    ``labels`` in {0 negative, 1 neutral, 2 positive}.

    Raises:
        ValueError: ``scores`` is not (N, 3), or a label is not 0, 1 or 2.
    """
    scores, labels = _scores_and_labels(scores, labels, 3)
    bad = sorted(set(labels.tolist()) - {0, 1, 2})
    if bad:
        raise ValueError(f'labels must be 0 (negative), 1 (neutral) or 2 '
                         f'(positive), got {bad}')
    argmax = scores.argmax(axis=1)
    three = _accuracy_f1(labels, argmax)
    has0 = _accuracy_f1(labels != 0, scores[:, 2] > scores[:, 0])
    keep = labels != 1
    non0 = _accuracy_f1(labels[keep], argmax[keep])
    return dict(acc3=three['acc'], f1_3=three['f1'], acc2_has0=has0['acc'],
                f1_has0=has0['f1'], acc2_non0=non0['acc'],
                f1_non0=non0['f1'])


def seven_class_metrics(scores, labels) -> Dict[str, float]:
    """Acc-7 and weighted F1-7 of logits ``scores`` (N, 7) against labels
    0..6 (round(clip(y, -3, 3)) + 3)."""
    scores, labels = _scores_and_labels(scores, labels, 7)
    seven = _accuracy_f1(labels, scores.argmax(axis=1))
    return dict(acc7=seven['acc'], f1_7=seven['f1'])

"""Fused and per-modality classification metrics."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.evaluation.metrics import Accuracy, SingleLabelMetric

from armlab.evaluation.valuation import dataset_shapley
from armlab.registry import METRICS


@METRICS.register_module()
class MultimodalAccuracy(BaseMetric):
    """Fused top-k accuracy and macro-F1, and per-modality accuracy.

    Per-modality accuracies come from the ``modality_scores`` that
    :meth:`MultimodalClassifier.predict` attaches: ``acc_<m>_mask`` (fused
    head with only m present), ``acc_<m>_decomp`` (decomposed logits) or
    ``acc_<m>_aux`` (auxiliary heads). When the data marks erased modalities
    (AV-Digits), ``acc_erased_<m>`` is the fused accuracy on the samples whose
    modality m carries no class information: it measures how well the joint
    model learned the other modalities. When the model attaches every
    subset's prediction (``subset_labels``), ``shapley_<m>`` is modality m's
    dataset-level Shapley value of accuracy (v(S) = accuracy with only S
    present; they sum to v(all) - v(none)) and ``shapley_share_<m>`` its
    share |φ_m| / Σ|φ|. All values are percentages.

    Args:
        topk: The k of the fused top-k accuracies.
        modalities: Modality order of the ``erased`` flags; read from the
            data samples when None.
    """

    default_prefix: Optional[str] = ''  # names carry their own groups

    def __init__(self,
                 topk: Sequence[int] = (1, 5),
                 modalities: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)
        self.modalities = tuple(modalities) if modalities else None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            result = {
                'pred_score': ds['pred_score'].cpu(),
                'gt_label': ds['gt_label'].cpu(),
                'modality_scores': {
                    k: v.cpu()
                    for k, v in ds.get('modality_scores', {}).items()
                },
            }
            if 'erased' in ds:
                result['erased'] = torch.as_tensor(ds['erased']).cpu()
            if 'subset_labels' in ds:
                result['subset_labels'] = {
                    k: int(v) for k, v in ds['subset_labels'].items()}
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scores = torch.stack([r['pred_score'] for r in results])
        target = torch.cat([r['gt_label'] for r in results])
        modality_scores = {
            k: torch.stack([r['modality_scores'][k] for r in results])
            for k in results[0]['modality_scores']
        }
        erased = torch.stack([r['erased'] for r in results]) \
            if 'erased' in results[0] else None
        metrics = self.calculate(scores, target, modality_scores, erased,
                                 topk=self.topk, modalities=self.modalities)
        if 'subset_labels' in results[0]:
            subset_labels = {
                k: torch.tensor([r['subset_labels'][k] for r in results])
                for k in results[0]['subset_labels']
            }
            metrics.update(self.shapley_contributions(subset_labels, target))
        return metrics

    @staticmethod
    def shapley_contributions(subset_labels: Dict[str, torch.Tensor],
                              target: torch.Tensor) -> Dict[str, float]:
        """``shapley_<m>`` and ``shapley_share_<m>`` from every subset's
        predicted labels (keys ``'a+b'``, ..., ``'none'``)."""
        accuracy = {
            (() if k == 'none' else tuple(k.split('+'))):
            float((labels == target).float().mean() * 100)
            for k, labels in subset_labels.items()
        }
        modalities = max(accuracy, key=len)
        phi = dataset_shapley(accuracy, modalities)
        total = sum(abs(v) for v in phi.values())
        out = {}
        for m, v in phi.items():
            out[f'shapley_{m}'] = v
            out[f'shapley_share_{m}'] = 100 * abs(v) / total if total else 0.0
        return out

    @staticmethod
    def calculate(scores: torch.Tensor,
                  target: torch.Tensor,
                  modality_scores: Optional[Dict[str, torch.Tensor]] = None,
                  erased: Optional[torch.Tensor] = None,
                  topk: Sequence[int] = (1, 5),
                  modalities: Optional[Sequence[str]] = None
                  ) -> Dict[str, float]:
        """Compute every metric from stacked predictions.

        Args:
            scores: (N, K) fused class scores.
            target: (N,) labels.
            modality_scores: name -> (N, K) per-modality scores, with names
                ``<m>_mask``, ``<m>_decomp`` or ``<m>_aux``.
            erased: (N, M) bool, True where a modality was erased.
            topk: Fused top-k accuracies to report (k > K is skipped).
            modalities: Modality order of ``erased``'s columns; inferred from
                the ``<m>_mask`` names when None.

        Returns:
            dict: metric name -> value in percent.
        """
        num_classes = scores.shape[1]
        topk = tuple(k for k in topk if k <= num_classes) or (1, )
        accs = Accuracy.calculate(scores, target, topk=topk, thrs=(None, ))
        metrics = {
            f'accuracy/top{k}': float(acc[0])
            for k, acc in zip(topk, accs)
        }
        _, _, f1, _ = SingleLabelMetric.calculate(
            scores.argmax(1), target, average='macro',
            num_classes=num_classes)
        metrics['f1/macro'] = float(f1)
        correct = scores.argmax(1) == target
        for name, s in (modality_scores or {}).items():
            metrics[f'acc_{name}'] = float(
                (s.argmax(1) == target).float().mean() * 100)
        if erased is not None:
            if modalities is None:
                modalities = [
                    k[:-len('_mask')] for k in (modality_scores or {})
                    if k.endswith('_mask')
                ]
            for i, m in enumerate(modalities):
                subset = erased[:, i].bool()
                if subset.any():
                    metrics[f'acc_erased_{m}'] = float(
                        correct[subset].float().mean() * 100)
        return metrics

"""The sentiment field's classification metrics as an mmengine metric."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from armlab.registry import METRICS
from .sentiment import classification_metrics, seven_class_metrics


@METRICS.register_module()
class SentimentClassificationMetric(BaseMetric):
    """CIDer's metrics of a 3-class (negative / neutral / positive) or a
    7-class sentiment classifier, fused and per modality.

    With 3 classes: ``acc3``, ``f1_3``, ``acc2_has0`` / ``f1_has0``
    (negative against non-negative on every sample) and ``acc2_non0`` /
    ``f1_non0`` (non-neutral truths only; a neutral prediction counts
    wrong), as :func:`classification_metrics` defines them; with 7 classes
    ``acc7`` and ``f1_7``. Every ``<m>_mask`` score the model attaches (the
    fused head with only m present) gives the same metrics suffixed
    ``_<m>_mask``. All values are percentages. Use it beside
    ``MultimodalAccuracy``, which keeps ``accuracy/top1`` for checkpoint
    selection.
    """

    default_prefix: Optional[str] = 'sentiment'

    def __init__(self, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            scores = {'': ds['pred_score'].cpu().numpy()}
            scores.update({f'_{k}': v.cpu().numpy()
                           for k, v in ds.get('modality_scores', {}).items()
                           if k.endswith('_mask')})
            self.results.append(dict(label=int(ds['gt_label'].item()),
                                     scores=scores))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        labels = np.array([r['label'] for r in results])
        out = {}
        for suffix in results[0]['scores']:
            scores = np.stack([r['scores'][suffix] for r in results])
            if scores.shape[1] == 3:
                values = classification_metrics(scores, labels)
            elif scores.shape[1] == 7:
                values = seven_class_metrics(scores, labels)
            else:
                raise ValueError(
                    'SentimentClassificationMetric needs the 3-class '
                    '(negative / neutral / positive) or the 7-class task, '
                    f'got {scores.shape[1]} classes')
            out.update({f'{k}{suffix}': v for k, v in values.items()})
        return out

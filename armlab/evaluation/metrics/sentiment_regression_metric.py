"""The sentiment field's regression metrics as an mmengine metric."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from armlab.registry import METRICS
from .sentiment import regression_metrics


@METRICS.register_module()
class SentimentRegressionMetric(BaseMetric):
    """MMSA's metrics of a sentiment regressor (``MultimodalRegressor``),
    fused and per modality: ``mae``, ``corr``, ``acc7`` / ``acc5`` /
    ``acc3`` (the score rounded after clipping to [-3, 3] / [-2, 2] /
    [-1, 1]), ``acc2_has0`` / ``f1_has0`` and ``acc2_non0`` / ``f1_non0``,
    as :func:`regression_metrics` defines them. Each ``<m>_mask`` value the
    model attaches (the fused head with only m present) gives the same
    metrics suffixed ``_<m>_mask``. Select checkpoints on ``sentiment/mae``
    with ``rule='less'``.
    """

    default_prefix: Optional[str] = 'sentiment'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            if 'pred_value' not in ds or 'gt_value' not in ds:
                raise KeyError(
                    'SentimentRegressionMetric needs pred_value and gt_value '
                    '(a MultimodalRegressor on annotations with '
                    f"regression_label); sample {ds.get('sample_id')!r} has "
                    f'{sorted(k for k in ds if "value" in k)}')
            values = {'': float(ds['pred_value'].reshape(-1)[0])}
            values.update({f'_{k}': float(v.reshape(-1)[0])
                           for k, v in ds.get('modality_values', {}).items()})
            self.results.append(dict(
                target=float(ds['gt_value'].reshape(-1)[0]), values=values))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        target = np.array([r['target'] for r in results])
        out = {}
        for suffix in results[0]['values']:
            pred = np.array([r['values'][suffix] for r in results])
            out.update({f'{k}{suffix}': v for k, v in
                        regression_metrics(pred, target).items()})
        return out

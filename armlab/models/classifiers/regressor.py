"""A multimodal model that predicts one real value (sentiment regression).

CMU-MOSI and CMU-MOSEI are, first of all, regression benchmarks: a score in
[-3, 3] (the annotators' mean) is predicted and read as MAE, correlation and
accuracies of the rounded score (``SentimentRegressionMetric``).
:class:`MultimodalRegressor` is the classifier with one output: the same
encoders and any fusion (its ``num_classes`` is 1), an L1 loss on the target
``gt_value`` that ``PackMultimodalInputs`` / ``PackFeatureInputs`` write from
an entry's ``regression_label``, and per-modality predictions from the
masked heads (the fused head with only m present). What rests on class
probabilities (the Shapley shares of the accuracy game, auxiliary heads'
cross-entropy) is not defined here, and a balancer that reads them says so
when the model is built.
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.structures import DataSample

from armlab.registry import MODELS
from .multimodal import MultimodalClassifier


@MODELS.register_module()
class MultimodalRegressor(MultimodalClassifier):
    """Multimodal regression: one output, L1 loss (MMSA's), joint training.

    Args:
        encoders, fusion, balancer, data_preprocessor, init_cfg, modalities:
            As :class:`MultimodalClassifier`; ``num_classes`` is 1.
        loss: The regression loss on (B,) outputs and (B,) targets
            (default ``L1Loss``, as MMSA trains MOSI / MOSEI regression).
    """

    def __init__(self,
                 encoders: Dict[str, dict],
                 fusion: dict,
                 balancer: Optional[dict] = None,
                 loss: dict = dict(type='torch.nn.L1Loss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 modalities=None,
                 num_classes: int = 1):
        if num_classes != 1:
            raise ValueError('MultimodalRegressor predicts one value; got '
                             f'num_classes={num_classes} (use '
                             'MultimodalClassifier for classes)')
        super().__init__(encoders, fusion, 1, balancer=balancer, loss=loss,
                         aux_heads=False, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, modalities=modalities)
        if getattr(self.balancer, 'needs_classes', True):
            raise ValueError(
                f'{type(self.balancer).__name__} needs a classification task '
                '(it reads class probabilities or per-class scores); '
                'MultimodalRegressor trains with joint training only: use '
                "balancer=dict(type='JointTraining')")

    @staticmethod
    def targets(data_samples: List[DataSample]) -> torch.Tensor:
        """The (B,) float targets ``gt_value`` of a batch."""
        missing = [i for i, ds in enumerate(data_samples)
                   if 'gt_value' not in ds]
        if missing:
            raise KeyError(
                f'MultimodalRegressor: {len(missing)} sample(s) of the batch '
                'have no gt_value (e.g. sample '
                f"{data_samples[missing[0]].get('sample_id', missing[0])!r}); "
                "the annotations need a 'regression_label' per entry "
                '(tools/data/prepare_sentiment.py writes one)')
        return torch.cat([ds.gt_value.reshape(-1) for ds in data_samples])

    def loss(self, inputs, data_samples):
        feats = self.extract_feat(inputs)
        present = self._present(data_samples)
        out = self.fuse(self.balancer.fusion_features(self, feats),
                        present=present)[:, 0]
        target = self.targets(data_samples).to(out)
        losses = {'loss_reg': self.loss_module(out, target)}
        return self.balancer.losses(self, feats, out, data_samples, losses)

    def predict(self, inputs, data_samples=None):
        """``pred_value`` (the fused output) and ``modality_values``
        (``<m>_mask``: the fused head with only m present). Never reads
        targets."""
        feats = self.extract_feat(inputs)
        present = self._present(data_samples)
        fused = self.fuse(feats, present=present)[:, 0]
        masked = self.masked_logits(feats, [(m, ) for m in self.modalities],
                                    present=present)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(fused))]
        for i, ds in enumerate(data_samples):
            ds.set_field(fused[i:i + 1].detach(), 'pred_value',
                         field_type='data')
            ds.set_field({f'{m}_mask': masked[(m, )][i, :1].detach()
                          for m in self.modalities}, 'modality_values',
                         field_type='metainfo')
        return data_samples

    def subset_labels(self, feats, present=None):
        """No predicted classes, so no accuracy game to share."""
        return {}

"""AMST-FULL's model: an ALT and a JOINT classifier side by side.

Silva, Chen, Selpi, ECML PKDD 2025 (configs/amst/README.md). The training
routine of each half is ``AMSTBalancer`` (``armlab/balancers/amst.py``);
this file is the model: the two classifiers, the combined prediction and the
per-modality scores.
"""
import copy
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from armlab.models.fusions.shared_head import require_shared_head
from armlab.registry import MODELS
from .multimodal import MultimodalClassifier, pack_predictions


@MODELS.register_module()
class AMSTFullClassifier(BaseModel):
    """AMST FULL: an ALT (shared head) and a JOINT (concat) model side by side.

    Both models get the same encoder configs (independent weights) and the
    balancer's skip factors; the ALT one is trained with the ALT routine and
    the JOINT one with the JOINT routine (the official code trains both with
    the alternating one). One optimiser serves both: each routine leaves the
    other model's gradients empty, so their parameters do not move, which is
    the same as two optimisers sharing the learning-rate schedule.

    Prediction: z = (M * z_alt + z_joint) / (M + 1), M the number of
    modalities (the official evaluation script uses the batch size) and
    z_alt the *mean* of the ALT model's unimodal logits (its fusion's
    ``combine='mean'``, the default here), as the official code has it: a
    summed ALT head would count about M times more against the JOINT
    model.
    Per-modality scores: ``<m>_mask`` and ``<m>_decomp`` combine the two
    models' in the same way; ``<m>_alt`` and ``<m>_joint`` are each model's
    masked logits.

    Args:
        encoders, num_classes, loss, aux_heads: As
            :class:`MultimodalClassifier`, for both models.
        balancer: ``AMSTBalancer`` config with ``variant='FULL'``.
        fusion: The JOINT model's fusion (concat by default).
        alt_fusion: The ALT model's fusion (a ``SharedHeadFusion``;
            ``combine='mean'`` for the official mixing).
        data_preprocessor: Runs once per batch for both models.
    """

    def __init__(self,
                 encoders: Dict[str, dict],
                 num_classes: int,
                 balancer: dict,
                 fusion: dict = dict(type='ConcatFusion'),
                 alt_fusion: dict = dict(type='SharedHeadFusion',
                                         combine='mean'),
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 aux_heads: Optional[bool] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultimodalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.balancer = MODELS.build(balancer)
        # Duck-typed: models do not import balancers (balancers import them).
        if type(self.balancer).__name__ != 'AMSTBalancer' or \
                getattr(self.balancer, 'variant', None) != 'FULL':
            raise ValueError("AMSTFullClassifier needs balancer=dict(type="
                             "'AMSTBalancer', variant='FULL', ...), got "
                             f'{balancer}')

        def child(child_fusion: dict, variant: str) -> MultimodalClassifier:
            return MultimodalClassifier(
                encoders=copy.deepcopy(encoders),
                fusion=copy.deepcopy(child_fusion),
                num_classes=num_classes,
                balancer=dict(type='AMSTBalancer', variant=variant,
                              skip_factors=self.balancer.skip_factors),
                loss=copy.deepcopy(loss),
                aux_heads=aux_heads,
                # Inputs arrive preprocessed by this model.
                data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))

        self.alt = child(alt_fusion, 'ALT')
        self.joint = child(fusion, 'JOINT')
        require_shared_head(self.alt, "AMSTFullClassifier's ALT model")
        self.modalities = self.alt.modalities
        self.num_classes = num_classes

    def combine(self, alt: torch.Tensor, joint: torch.Tensor) -> torch.Tensor:
        """(M * alt + joint) / (M + 1)."""
        m = len(self.modalities)
        return (m * alt + joint) / (m + 1)

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.combine(self.alt(inputs, data_samples),
                                self.joint(inputs, data_samples))
        if mode == 'loss':
            return {f'{name}_{k}': v
                    for name in ('alt', 'joint')
                    for k, v in getattr(self, name).loss(
                        inputs, data_samples).items()}
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def predict(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Combined fused and per-modality predictions. Never reads labels."""
        present = self.alt._present(data_samples)
        feats = {name: getattr(self, name).extract_feat(inputs)
                 for name in ('alt', 'joint')}
        logits = self.combine(self.alt.fuse(feats['alt'], present=present),
                              self.joint.fuse(feats['joint'],
                                              present=present))
        alt = self.alt.modality_logits(feats['alt'])
        joint = self.joint.modality_logits(feats['joint'])
        per_modality = {k: self.combine(alt[k], joint[k])
                        for k in alt if k in joint}
        for m in self.modalities:
            per_modality[f'{m}_alt'] = alt[f'{m}_mask']
            per_modality[f'{m}_joint'] = joint[f'{m}_mask']
        return pack_predictions(
            logits, per_modality,
            self.subset_labels(feats['alt'], feats['joint']), data_samples)

    def subset_labels(self, alt_feats: Dict[str, torch.Tensor],
                      joint_feats: Dict[str, torch.Tensor]
                      ) -> Dict[str, torch.Tensor]:
        """Predicted class of every subset's combined masked logits, keyed
        as :meth:`MultimodalClassifier.subset_labels` (for the metric's
        Shapley contributions); empty when M > 4."""
        if len(self.modalities) > 4:
            return {}
        alt = self.alt.masked_logits(alt_feats)
        joint = self.joint.masked_logits(joint_feats)
        return {('+'.join(s) or 'none'): self.combine(alt[s], joint[s])
                .argmax(1) for s in alt}

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        return self.balancer.train_step(self, data, optim_wrapper)

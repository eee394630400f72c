"""The unimodal ensemble: each modality trained alone, probabilities averaged.

The reference that bounds what late fusion of independently trained
unimodal models achieves (docs/results/avdigits.md): every encoder and its
own head are trained on their own cross-entropy, so no modality's gradient
ever reaches another's parameters, and the prediction is the mean of the
members' probabilities (:class:`ProbabilityAverageFusion`). One run gives
the ensemble and, as its masked accuracies, each modality's unimodal model.

Training all members in one run on the same batches is the same as training
them one by one: the parameters are disjoint, the losses separate and the
optimiser (SGD with momentum and weight decay, AdamW) acts per parameter.
Two things couple them and are avoided or named: a *global* gradient-norm
clip (``optim_wrapper.clip_grad``) would mix the members' norms, so the
balancer refuses it; and the checkpoint is chosen on the ensemble's fused
validation accuracy, not on each member's own.
"""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from .base import Balancer


@MODELS.register_module()
class UnimodalEnsemble(Balancer):
    """Replace the fused loss by the sum of the members' own losses,

        L = sum_m CE(H_m(h_m), y),

    where H_m(h_m) is the fusion's logits with only m present, i.e. member
    m's log-probabilities under :class:`ProbabilityAverageFusion`.
    """

    #: The fusion whose masked logits are the members' own predictions.
    required_fusion = 'ProbabilityAverageFusion'

    def losses(self, model: nn.Module, feats: Dict[str, torch.Tensor],
               logits: torch.Tensor, data_samples: List,
               losses: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        fusion_type = type(model.fusion).__name__
        if fusion_type != self.required_fusion:
            raise TypeError(
                f'UnimodalEnsemble trains the members of a '
                f'{self.required_fusion}; the model has {fusion_type}, whose '
                'masked heads are not independent unimodal models')
        labels = self.labels(data_samples)
        singles = [(m, ) for m in model.modalities]
        member_logits = model.masked_logits(feats, singles)
        out = {k: v for k, v in losses.items() if k != 'loss_cls'}
        for subset in singles:
            out[f'loss_{subset[0]}'] = F.cross_entropy(member_logits[subset],
                                                       labels)
        return out

    def train_step(self, model, data, optim_wrapper, forward=None):
        if getattr(optim_wrapper, 'clip_grad_kwargs', None):
            raise ValueError(
                'UnimodalEnsemble: optim_wrapper.clip_grad clips the global '
                'gradient norm, which couples the members; remove it (or '
                'train the unimodal configs one by one)')
        return super().train_step(model, data, optim_wrapper, forward)

"""AMST: Alternating Multimodal Skip Training.

Silva, Chen, Selpi, ECML PKDD 2025 (configs/amst/README.md). The dominant
modality
learns too fast, so it is updated only every k-th epoch: modality m trains in
the epochs e with e mod k_m == 0 and is skipped (forward only) in the others.

* ``ALT``: a shared-head ('msum') model trained one modality at a time, each
  alone through the masked forward, with a step for each modality that is
  not skipped.
* ``JOINT``: a joint model (concat fusion by default) with one step per
  batch; a skipped modality's features are replaced by the fusion's fill.
* ``FULL``: :class:`AMSTFullClassifier`, an ALT and a JOINT model trained
  side by side, each by its own routine; logits (M * alt + joint) / (M + 1).

The epoch comes from mmengine's MessageHub (``Balancer.current_epoch``), so
the schedule needs no hook.
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from armlab.models.classifiers.multimodal import (MultimodalClassifier,
                                                 pack_predictions)
from armlab.registry import MODELS
from .base import Balancer
from .mla import require_no_accumulation, require_shared_head, sync_gradients

VARIANTS = ('ALT', 'JOINT', 'FULL')
#: The paper's CREMA-D setting: audio (dominant) every 5th epoch.
CREMAD_SKIP_FACTORS = dict(audio=5, visual=1)


@MODELS.register_module()
class AMSTBalancer(Balancer):
    """Skip-epoch schedule with the ALT, JOINT or FULL training routine.

    Args:
        variant: 'ALT' (needs ``SharedHeadFusion``), 'JOINT' (any fusion) or
            'FULL' (needs ``AMSTFullClassifier``, which builds its two
            models' balancers from this one's settings).
        skip_factors: Modality -> k_m >= 1; modalities not listed get 1.
            Defaults to the paper's CREMA-D values (audio 5, visual 1).
    """

    def __init__(self,
                 variant: str = 'ALT',
                 skip_factors: Optional[Dict[str, int]] = None):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f'AMSTBalancer variant must be one of '
                             f'{VARIANTS}, got {variant!r}')
        skip_factors = dict(CREMAD_SKIP_FACTORS if skip_factors is None
                            else skip_factors)
        for m, k in skip_factors.items():
            if int(k) != k or k < 1:
                raise ValueError(f'AMSTBalancer skip factor of {m!r} must be '
                                 f'an integer >= 1, got {k}')
        self.variant = variant
        self.skip_factors = {m: int(k) for m, k in skip_factors.items()}

    # -- the schedule ---------------------------------------------------------
    def is_active(self, modality: str, epoch: Optional[int] = None) -> bool:
        """True when ``modality`` updates in ``epoch`` (default: now)."""
        epoch = self.current_epoch() if epoch is None else epoch
        return epoch % self.skip_factors.get(modality, 1) == 0

    def active_modalities(self, model) -> Dict[str, bool]:
        unknown = sorted(set(self.skip_factors) - set(model.modalities))
        if unknown:
            raise KeyError(f'AMSTBalancer skip_factors name modalities '
                           f'{unknown} that the model lacks '
                           f'({model.modalities})')
        epoch = self.current_epoch()
        return {m: self.is_active(m, epoch) for m in model.modalities}

    # -- training routines ----------------------------------------------------
    def train_step(self, model, data, optim_wrapper, forward=None
                   ) -> Dict[str, torch.Tensor]:
        forward = forward or model
        if self.variant == 'FULL':
            return self._full_step(model, data, optim_wrapper)
        if not isinstance(model, MultimodalClassifier):
            raise TypeError(f'AMSTBalancer variant {self.variant!r} trains a '
                            'MultimodalClassifier, got '
                            f'{type(model).__name__}')
        if self.variant == 'ALT':
            return self._alt_step(model, data, optim_wrapper, forward)
        return self._joint_step(model, data, optim_wrapper, forward)

    @staticmethod
    def _update(model, optim_wrapper, loss: torch.Tensor) -> None:
        """Backward and step; only parameters with a gradient move."""
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        sync_gradients(model)
        if optim_wrapper.should_update():
            optim_wrapper.step()
            optim_wrapper.zero_grad()

    def _alt_step(self, model, data, optim_wrapper, forward):
        """Each modality alone through the shared head, one step each."""
        require_shared_head(model, "AMSTBalancer(variant='ALT')")
        require_no_accumulation(optim_wrapper, "AMSTBalancer(variant='ALT')")
        active = self.active_modalities(model)
        data = model.data_preprocessor(data, True)
        inputs, labels = data['inputs'], self.labels(data['data_samples'])
        log_vars = {}
        for m in model.modalities:
            with optim_wrapper.optim_context(forward), \
                    torch.set_grad_enabled(active[m]):
                h = model.encoders[m](inputs[m])
                losses = {f'amst_loss_{m}': model.loss_module(
                    self.alone(model, m, h), labels)}
            # A skipped modality runs forward only (monitoring); its
            # auxiliary head still learns from the detached features.
            if model.aux_heads is not None:
                with optim_wrapper.optim_context(forward):
                    losses[f'amst_aux_loss_{m}'] = F.cross_entropy(
                        model.aux_heads[m](h.detach()), labels)
            loss, sub_log = model.parse_losses(losses)
            if active[m] or model.aux_heads is not None:
                self._update(model, optim_wrapper, loss)
            log_vars.update({k: v.detach() for k, v in sub_log.items()
                             if k != 'loss'})
            log_vars[f'amst_active_{m}'] = loss.new_tensor(float(active[m]))
        total = sum(v for k, v in log_vars.items() if 'loss' in k)
        return {'loss': total, **log_vars}

    @staticmethod
    def alone(model, modality: str, h: torch.Tensor) -> torch.Tensor:
        """Fused logits with only ``modality`` present (the others take the
        fusion's fill: with the zero fill, the shared head's H(h))."""
        feats = {m: h if m == modality else
                 h.new_zeros(h.shape[0], model.fusion.in_channels[m])
                 for m in model.modalities}
        return model.masked_logits(feats, [(modality, )])[(modality, )]

    def _joint_step(self, model, data, optim_wrapper, forward):
        """One joint step; skipped modalities take the fill."""
        active = self.active_modalities(model)
        data = model.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        labels = self.labels(samples)
        train = any(active.values())
        with optim_wrapper.optim_context(forward), \
                torch.set_grad_enabled(train):
            feats = {}
            for m in model.modalities:
                with torch.set_grad_enabled(train and active[m]):
                    feats[m] = model.encoders[m](inputs[m])
            present = self.present_mask(model, samples, active, labels.device)
            logits = model.fuse(feats, present=present)
            losses = {'loss_cls': model.loss_module(logits, labels)}
            if model.aux_heads is not None:
                losses['loss_aux'] = sum(
                    F.cross_entropy(model.aux_heads[m](feats[m].detach()),
                                    labels) for m in model.modalities)
        loss, log_vars = model.parse_losses(losses)
        if train:  # no step at all when every modality is skipped
            self._update(model, optim_wrapper, loss)
        for m in model.modalities:
            log_vars[f'amst_active_{m}'] = loss.new_tensor(float(active[m]))
        return log_vars

    @staticmethod
    def present_mask(model, samples: List, active: Dict[str, bool],
                     device) -> Optional[torch.Tensor]:
        """(B, M) presence: the data's own mask without skipped modalities."""
        data_mask = model._present(samples)
        if all(active.values()):
            return data_mask
        row = torch.tensor([active[m] for m in model.modalities],
                           device=device)
        mask = row.expand(len(samples), -1)
        return mask if data_mask is None else mask & data_mask.to(device)

    def _full_step(self, model, data, optim_wrapper):
        """Train AMSTFullClassifier's two models, each by its routine."""
        if not isinstance(model, AMSTFullClassifier):
            raise TypeError("AMSTBalancer(variant='FULL') trains two models: "
                            "use model=dict(type='AMSTFullClassifier', ...), "
                            f'got {type(model).__name__}')
        data = model.data_preprocessor(data, True)
        log_vars = {}
        for name in ('alt', 'joint'):
            child = getattr(model, name)
            for k, v in child.balancer.train_step(child, data,
                                                  optim_wrapper).items():
                log_vars[k if k.startswith('amst_active_') else
                         f'{name}_{k}'] = v
        total = log_vars['alt_loss'] + log_vars['joint_loss']
        return {'loss': total, **log_vars}


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
    modalities (the official evaluation script uses the batch size).
    Per-modality scores: ``<m>_mask`` and ``<m>_decomp`` combine the two
    models' in the same way; ``<m>_alt`` and ``<m>_joint`` are each model's
    masked logits.

    Args:
        encoders, num_classes, loss, aux_heads: As
            :class:`MultimodalClassifier`, for both models.
        balancer: ``AMSTBalancer`` config with ``variant='FULL'``.
        fusion: The JOINT model's fusion (concat by default).
        alt_fusion: The ALT model's fusion (a ``SharedHeadFusion``).
        data_preprocessor: Runs once per batch for both models.
    """

    def __init__(self,
                 encoders: Dict[str, dict],
                 num_classes: int,
                 balancer: dict,
                 fusion: dict = dict(type='ConcatFusion'),
                 alt_fusion: dict = dict(type='SharedHeadFusion'),
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 aux_heads: Optional[bool] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultimodalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.balancer = MODELS.build(balancer)
        if not isinstance(self.balancer, AMSTBalancer) or \
                self.balancer.variant != 'FULL':
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

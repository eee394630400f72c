"""AMST: Alternating Multimodal Skip Training.

Silva, Chen, Selpi, ECML PKDD 2025 (configs/amst/README.md). The dominant
modality
learns too fast, so it is updated only every k-th epoch: modality m trains in
the epochs e with e mod k_m == 0 and is skipped (forward only) in the others.

* ``ALT``: a shared-head ('msum') model trained one modality at a time, each
  alone through the masked forward, with a step for each modality that is
  not skipped.
* ``JOINT``: a joint model (concat fusion by default) with one step per
  batch; a skipped modality's share of the logits is left out (its
  features' and its 1/M of the bias, as in the official code) where the
  fusion decomposes, and its features take the fusion's fill otherwise.
* ``FULL``: :class:`AMSTFullClassifier`, an ALT and a JOINT model trained
  side by side, each by its own routine; logits (M * alt + joint) / (M + 1).

The epoch comes from mmengine's MessageHub (``Balancer.current_epoch``), so
the schedule needs no hook.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from armlab.models.classifiers.amst_full import AMSTFullClassifier
from armlab.models.classifiers.multimodal import MultimodalClassifier
from armlab.models.fusions.shared_head import require_shared_head
from armlab.registry import MODELS
from .base import Balancer, require_no_accumulation

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
                self.update(model, optim_wrapper, loss, sync=True)
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
            logits = model.fuse(feats, present=present) - \
                self.skipped_share(model, feats, active)
            losses = {'loss_cls': model.loss_module(logits, labels)}
            if model.aux_heads is not None:
                losses['loss_aux'] = sum(
                    F.cross_entropy(model.aux_heads[m](feats[m].detach()),
                                    labels) for m in model.modalities)
        loss, log_vars = model.parse_losses(losses)
        if train:  # no step at all when every modality is skipped
            self.update(model, optim_wrapper, loss, sync=True)
        for m in model.modalities:
            log_vars[f'amst_active_{m}'] = loss.new_tensor(float(active[m]))
        return log_vars

    @staticmethod
    def skipped_share(model, feats: Dict[str, torch.Tensor],
                      active: Dict[str, bool]) -> torch.Tensor:
        """What the skipped modalities' fill adds to the fused logits: their
        decomposed logits W_m fill_m + b / M (with the zero fill, b / M), so
        that subtracting it leaves the active modalities' shares only, as
        the official JOINT computes them. Zero when nothing is skipped or
        the fusion does not decompose."""
        skipped = [m for m in model.modalities if not active[m]]
        fusion = model.fusion
        if not skipped or not getattr(fusion, 'decomposable', False):
            return torch.zeros(())
        fills = {m: fusion.fill_value(m, h) for m, h in feats.items()}
        parts = fusion.decompose(fills)
        return sum(parts[m] for m in skipped)

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

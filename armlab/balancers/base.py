"""The balancer interface: the only way a method changes training.

A balancer is called by :class:`MultimodalClassifier` at fixed points of its
training step: when losses are computed (extra or re-weighted losses), after
backward (gradient modulation), and, by overriding :meth:`train_step`, to
choose what trains this step. Epoch-level work lives in a hook in the method's
own file. The base class is plain joint training.
"""
from typing import Callable, Dict, List, Optional

import torch
from mmengine.dist import all_reduce, all_reduce_params, get_world_size
from mmengine.model import is_model_wrapper
from torch import nn

from armlab.registry import MODELS
from armlab.utils.runtime import current_epoch, current_iter, iters_per_epoch


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """Mean of ``value`` over the ranks of a distributed run (else itself)."""
    if get_world_size() > 1:
        value = value.clone()
        all_reduce(value, op='mean')
    return value


def unwrap_model(model: nn.Module) -> nn.Module:
    """The classifier inside a (distributed) model wrapper, else itself."""
    return model.module if is_model_wrapper(model) else model


def require_no_accumulation(optim_wrapper, method: str) -> None:
    """Per-modality optimiser steps cannot share accumulated gradients."""
    counts = getattr(optim_wrapper, '_accumulative_counts', 1)
    if counts != 1:
        raise ValueError(
            f'{method} takes one optimiser step per modality and batch; '
            f'gradient accumulation (accumulative_counts={counts}) would mix '
            'the modalities. Remove accumulative_counts from optim_wrapper.')


def sync_gradients(model: nn.Module) -> None:
    """Average the gradients over the ranks of a distributed run.

    The per-modality forwards call the encoders directly, not through the
    DDP wrapper, so DDP does not reduce their gradients; this does, for the
    parameters that have one (the same on every rank).
    """
    if get_world_size() > 1:
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if grads:
            all_reduce_params(grads, op='mean')


@MODELS.register_module(name=['Balancer', 'JointTraining'])
class Balancer(nn.Module):
    """No-op balancer: joint training with the fused cross-entropy only."""

    #: Buffers sized on first use (empty at construction): loading a
    #: checkpoint takes the saved size instead of failing on the mismatch,
    #: and a checkpoint without one (an earlier version) leaves it unused.
    lazy_buffers: tuple = ()
    #: Buffers that earlier versions saved and this one no longer has:
    #: dropped from a checkpoint on load, so old checkpoints still load.
    retired_buffers: tuple = ()
    #: Hook types the method needs in ``custom_hooks``; checked when the
    #: config is read (``armlab/engine/method_parts.py``).
    required_hooks: tuple = ()
    #: Whether the method reads class probabilities or per-class scores, so
    #: that a regression model (``MultimodalRegressor``) refuses it: False
    #: for joint training, True for every subclass unless it says otherwise.
    needs_classes: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'needs_classes' not in cls.__dict__:
            cls.needs_classes = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in self.retired_buffers:
            state_dict.pop(prefix + name, None)
        for name in self.lazy_buffers:
            saved = state_dict.get(prefix + name)
            current = getattr(self, name)
            if saved is None:  # an earlier version without it: unused yet
                saved = state_dict[prefix + name] = current.new_zeros(0)
            if saved.shape != current.shape:
                setattr(self, name, current.new_zeros(saved.shape))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- helpers shared by every method ---------------------------------------
    #: The 0-based epoch, the global iteration and the iterations per epoch
    #: (``armlab.utils.runtime``).
    current_epoch = staticmethod(current_epoch)
    current_iter = staticmethod(current_iter)
    iters_per_epoch = staticmethod(iters_per_epoch)

    @staticmethod
    def labels(data_samples: List) -> torch.Tensor:
        """The (B,) ground-truth labels of a batch."""
        return torch.cat([ds.gt_label for ds in data_samples])

    @staticmethod
    def in_window(epoch: int, start: int, end: Optional[int]) -> bool:
        """True when ``start <= epoch < end`` (``end=None``: no end)."""
        return epoch >= start and (end is None or epoch < end)

    def losses(self, model: nn.Module, feats: Dict[str, torch.Tensor],
               logits: torch.Tensor, data_samples: List,
               losses: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Return the final loss dict; add or re-weight terms here.

        Args:
            model: The classifier (for masked forwards and heads).
            feats: Modality -> (B, D) features of this batch, with gradient.
            logits: Fused logits (B, K), with the current feature weights.
            data_samples: The batch's data samples (labels, masks).
            losses: The classifier's own losses (``loss_cls`` ...).
        """
        return losses

    def fusion_features(self, model: nn.Module,
                        feats: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
        """The features the fused loss is computed on: ``feats`` itself by
        default. A balancer that scales each modality's learning signal from
        the fused loss (ARM) returns them wrapped, so that the forward pass,
        and prediction, are unchanged."""
        return feats

    def after_backward(self, model: nn.Module) -> None:
        """Change gradients after backward and before the optimiser step."""

    def before_forward(self, model: nn.Module, data: dict) -> None:
        """See the preprocessed batch before the loss forward (UMT's
        teachers read its inputs)."""

    def train_step(self,
                   model: nn.Module,
                   data: dict,
                   optim_wrapper,
                   forward: Optional[Callable] = None
                   ) -> Dict[str, torch.Tensor]:
        """One optimisation step: forward, losses, backward, modulate, step.

        Args:
            model: The classifier (not a wrapper).
            data: A batch from the dataloader.
            optim_wrapper: mmengine optimiser wrapper (AMP and gradient
                accumulation aware).
            forward: What runs the loss forward; a distributed wrapper passes
                itself so that gradients are synchronised. Defaults to
                ``model``.
        """
        forward = forward or model
        with optim_wrapper.optim_context(forward):
            data = model.data_preprocessor(data, True)
            self.before_forward(model, data)
            losses = forward(**data, mode='loss')
        parsed, log_vars = model.parse_losses(losses)
        self.update(model, optim_wrapper, parsed,
                    modulate=lambda: self.after_backward(model))
        return log_vars

    @staticmethod
    def update(model: nn.Module, optim_wrapper, loss: torch.Tensor, *,
               sync: bool = False, modulate: Optional[Callable] = None,
               before_step: Optional[Callable] = None) -> None:
        """Backward, then an optimiser step when the wrapper says so.

        The one update sequence of every balancer that owns its step:
        backward of the (AMP-scaled) loss; ``sync``: average the gradients
        over ranks, for forwards that bypass the DDP wrapper; ``modulate``:
        change the gradients (OGM-GE, MLA's projection, MMPareto); then, on
        an update step of gradient accumulation, ``before_step`` (AGM's
        clipping), the step and zero-grad.
        """
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        if sync:
            sync_gradients(model)
        if modulate is not None:
            modulate()
        if optim_wrapper.should_update():
            if before_step is not None:
                before_step()
            optim_wrapper.step()
            optim_wrapper.zero_grad()

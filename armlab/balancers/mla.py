"""MLA: Multimodal Learning with Alternating unimodal adaptation.

Zhang, Yoon, Bansal, Yao, CVPR 2024 (configs/mla/README.md). Every batch trains
the modalities one after the other, each through the *shared* head of
:class:`SharedHeadFusion` with the other modalities absent, and takes one
optimiser step per modality. So that learning modality m does not undo what
the head learned from the others, the head-weight gradient is projected
(OWM-style) away from the directions of the head inputs seen so far (an
option: the released code never projects). At test time the unimodal logits
are combined with per-sample entropy weights.
"""
from typing import Dict, Optional, Union

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from torch import nn

from armlab.models.fusions.shared_head import (COMBINE_RULES,
                                               require_shared_head)
from armlab.registry import HOOKS, MODELS
from .base import Balancer, require_no_accumulation, unwrap_model


def owm_update(projector: torch.Tensor, r: torch.Tensor, alpha: float,
               code_parity: bool = False) -> torch.Tensor:
    """One orthogonal-weight-modification step, then Frobenius normalisation.

    P <- P - (P r)(P r)^T / (alpha + r^T P r); P <- P / ||P||_F. Afterwards
    P r = alpha / (alpha + r^T P r) * (old P r) (before normalising), so
    gradients W <- W P^T barely act on r when alpha << r^T P r.
    ``code_parity`` divides element-wise by the matrix alpha + (P r) r^T, as
    the official code does (configs/mla/README.md).
    """
    k = projector @ r
    if code_parity:
        denominator = alpha + torch.outer(k, r)
    else:
        denominator = alpha + r @ k
    projector = projector - torch.outer(k, k) / denominator
    return projector / torch.linalg.matrix_norm(projector)


@MODELS.register_module()
class MLABalancer(Balancer):
    """Alternating unimodal training through a shared, projected head.

    Needs ``SharedHeadFusion`` and :class:`MLAHook` in ``custom_hooks``.

    Args:
        projection: Project the head-weight gradient (the paper's
            ``--gs_flag``). Off by default: the released code's gate never
            matches a bare linear head's parameter name, so the published
            numbers were made without it (configs/mla/README.md).
        alpha: Base of the OWM regulariser alpha_t = alpha^(1 + i / N), i the
            batch index within the epoch and N the epoch length.
        code_parity: Use the official element-wise denominator.
        inference: Test-time combination set on the fusion by
            :class:`MLAHook`: 'entropy' (the paper's ``--dynamic``, per
            sample), 'entropy_batch' (the released code's, one weight per
            batch), 'fixed', 'mean' or 'sum'.
        fixed_weights: Modality -> weight (or a list in modality order) for
            ``inference='fixed'``.
    """

    required_hooks = ('MLAHook', )
    #: The OWM projector P is sized on first use; a checkpoint's size wins.
    lazy_buffers = ('projector', )

    def __init__(self,
                 projection: bool = False,
                 alpha: float = 0.1,
                 code_parity: bool = False,
                 inference: str = 'entropy',
                 fixed_weights: Optional[Union[dict, list]] = None):
        super().__init__()
        if inference not in COMBINE_RULES:
            raise ValueError(f'MLABalancer inference must be one of '
                             f'{COMBINE_RULES}, got {inference!r}')
        if inference == 'fixed' and not fixed_weights:
            raise ValueError("MLABalancer inference='fixed' needs "
                             'fixed_weights, e.g. dict(audio=0.3, visual=0.7)')
        if not 0 < alpha < 1:
            raise ValueError(f'MLABalancer alpha must be in (0, 1), got '
                             f'{alpha}')
        self.projection = projection
        self.alpha = alpha
        self.code_parity = code_parity
        self.inference = inference
        self.fixed_weights = fixed_weights
        #: Batches per epoch (for alpha_t); None: the run's, from the
        #: message hub.
        self.epoch_length: Optional[int] = None
        # The OWM projector P (D x D, identity until first used; sized on
        # first use and on loading) and the number of steps taken with it.
        self.register_buffer('projector', torch.zeros(0, 0))
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))

    # -- the projection -------------------------------------------------------
    def alpha_t(self) -> float:
        """alpha^(1 + batch_idx / epoch_length)."""
        length = self.epoch_length or self.iters_per_epoch()
        if not length:
            raise RuntimeError(
                'MLABalancer: alpha_t needs the epoch length, which an '
                "epoch-based mmengine run records in the message hub "
                '(max_iters / max_epochs); outside one, set epoch_length')
        batch_idx = self.current_iter() % length
        return self.alpha ** (1 + batch_idx / length)

    @torch.no_grad()
    def project_head_gradient(self, weight: nn.Parameter,
                              head_input: torch.Tensor) -> None:
        """Update P from the batch-mean head input r (except on the very
        first step), then project the weight gradient: grad <- grad P^T."""
        dim = weight.shape[1]
        if self.projector.shape != (dim, dim):
            self.projector = torch.eye(dim, device=weight.device)
        if int(self.num_steps) > 0:
            r = head_input.detach().float().mean(0)
            if get_world_size() > 1:  # one P on every rank
                all_reduce(r, op='mean')
            self.projector.copy_(owm_update(self.projector, r, self.alpha_t(),
                                            self.code_parity))
        self.num_steps += 1
        if weight.grad is not None:
            projector = self.projector.to(weight.grad.dtype)
            weight.grad.copy_(weight.grad @ projector.t())

    # -- the training step ----------------------------------------------------
    def train_step(self, model, data, optim_wrapper, forward=None
                   ) -> Dict[str, torch.Tensor]:
        """One optimiser step per modality, each on the shared head alone."""
        fusion = require_shared_head(model, 'MLABalancer')
        require_no_accumulation(optim_wrapper, 'MLABalancer')
        forward = forward or model
        data = model.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        labels = self.labels(samples)
        log_vars = {}
        for m in model.modalities:
            with optim_wrapper.optim_context(forward):
                h = model.encoders[m](inputs[m])
                loss, sub_log = model.parse_losses({
                    f'mla_loss_{m}': model.loss_module(fusion.head(h),
                                                       labels)})
            self.update(
                model, optim_wrapper, loss, sync=True,
                modulate=(lambda: self.project_head_gradient(
                    fusion.fc.weight, h)) if self.projection else None)
            log_vars[f'mla_loss_{m}'] = sub_log[f'mla_loss_{m}'].detach()
        return {'loss': sum(log_vars.values()), **log_vars}


@HOOKS.register_module()
class MLAHook(Hook):
    """Sets the fusion's test-time combination from the balancer's
    ``inference``.

    The combination is set before the run, so validation during training,
    ``tools/test.py`` and a resumed run all use the same rule (the
    per-modality training steps never use the fused logits).
    """

    priority = 'NORMAL'

    @staticmethod
    def _model(runner):
        model = unwrap_model(runner.model)
        if not isinstance(getattr(model, 'balancer', None), MLABalancer):
            name = type(getattr(model, 'balancer', None)).__name__
            raise TypeError(f'MLAHook needs model.balancer = MLABalancer, '
                            f'got {name}')
        require_shared_head(model, 'MLAHook')
        return model

    def before_run(self, runner) -> None:
        model = self._model(runner)
        balancer = model.balancer
        model.fusion.set_combine(balancer.inference, balancer.fixed_weights)

"""MMPareto: boosting multimodal learning with innocent unimodal assistance.

Wei and Hu, ICML 2024 (configs/mmpareto/README.md). Every
encoder is trained by two losses: the fused loss L_mm and its own unimodal
loss L_m = CE(head_m(h_m), y). When their gradients on the encoder conflict
(cosine <= 0), the encoder follows the two-task MGDA min-norm combination,
a direction that decreases neither loss's chance of improving (non-negative
inner product with both); otherwise their plain average. The combination is
then rescaled per parameter tensor to at least the norm of the summed
gradient, times gamma, to keep the step size (and the generalisation that
comes with gradient noise) of the summed-loss update. Heads and fusion keep
the plain gradient of L_mm + sum_m L_m.

The unimodal heads are the model's own ``aux_heads`` (``model.aux_heads=True``
in the config): trainable linear heads m -> Linear(D_m, K), trained here on
the encoders' features with gradient (the classifier alone trains them on
detached features). They are built with the model, so the optimiser, DDP and
checkpoints see them like every other parameter.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size

from armlab.registry import MODELS
from .base import Balancer


def pareto_weights(g_mm: torch.Tensor, g_uni: torch.Tensor,
                   eps: float = 1e-12) -> Tuple[torch.Tensor, torch.Tensor]:
    """Weights (k_0, k_1) of (g_mm, g_uni) and the cosine of the two.

    cos > 0: (1/2, 1/2). Otherwise the two-task min-norm point of their
    convex hull, k_0 = ((g_uni - g_mm) . g_uni) / ||g_mm - g_uni||^2,
    clipped to [0.001, 0.999].
    """
    cos = F.cosine_similarity(g_mm, g_uni, dim=0, eps=eps)
    if cos > 0:
        k0 = torch.full_like(cos, 0.5)
    else:
        diff = g_mm - g_uni
        k0 = ((g_uni - g_mm) @ g_uni) / (diff @ diff).clamp_min(eps)
        k0 = k0.clamp(0.001, 0.999)
    return torch.stack([k0, 1 - k0]), cos


def pareto_gradient(g_mm: torch.Tensor, g_uni: torch.Tensor,
                    weights: torch.Tensor, gamma: float,
                    eps: float = 1e-12) -> torch.Tensor:
    """The update of one parameter tensor from its two gradients.

    g_hat = 2 (k_0 g_mm + k_1 g_uni), g_sum = g_mm + g_uni, and the result
    is gamma * max(1, ||g_sum|| / ||g_hat||) * g_hat.
    """
    g_hat = 2 * (weights[0] * g_mm + weights[1] * g_uni)
    scale = (g_mm + g_uni).norm() / g_hat.norm().clamp_min(eps)
    return gamma * scale.clamp_min(1.0) * g_hat


def _dense(grad: Optional[torch.Tensor], param) -> torch.Tensor:
    """A parameter's gradient; None (the loss does not reach it) is 0."""
    return torch.zeros_like(param) if grad is None else grad


def _flat(grads: List[torch.Tensor], params) -> torch.Tensor:
    """The gradients of one encoder as one vector."""
    return torch.cat([_dense(g, p).reshape(-1)
                      for g, p in zip(grads, params)])


@MODELS.register_module()
class MMParetoBalancer(Balancer):
    """MMPareto's training step (any number of modalities).

    Each encoder pairs the fused loss with its own unimodal loss; the other
    modalities' unimodal losses do not reach it.

    Args:
        gamma: The step-size factor (official 1.5).
    """

    def __init__(self, gamma: float = 1.5):
        super().__init__()
        self.gamma = gamma

    def losses(self, model, feats, logits, data_samples, losses):
        if model.aux_heads is None:
            raise ValueError(
                'MMParetoBalancer trains unimodal heads: set '
                'model.aux_heads=True (linear heads m -> K on the features)')
        labels = self.labels(data_samples).to(logits.device)
        # The heads learn from the unimodal losses below, with gradient into
        # the encoders; the classifier's detached copy would count twice.
        losses.pop('loss_aux', None)
        for m in model.modalities:
            losses[f'loss_uni_{m}'] = F.cross_entropy(
                model.aux_heads[m](feats[m]), labels)
        return losses

    def train_step(self, model, data, optim_wrapper, forward=None):
        forward = forward or model
        with optim_wrapper.optim_context(forward):
            data = model.data_preprocessor(data, True)
            losses = forward(**data, mode='loss')
        parsed, log_vars = model.parse_losses(losses)
        unimodal = {m: losses[f'loss_uni_{m}'] for m in model.modalities}
        fused = sum(v for k, v in losses.items()
                    if 'loss' in k and not k.startswith('loss_uni_'))
        params = {m: [p for p in model.encoders[m].parameters()
                      if p.requires_grad] for m in model.modalities}
        g_mm, g_uni = self.encoder_gradients(optim_wrapper, fused, unimodal,
                                             params)
        # What earlier micro-batches accumulated (gradient accumulation).
        before = {p: None if p.grad is None else p.grad.clone()
                  for ps in params.values() for p in ps}
        def replace_encoder_gradients() -> None:
            for m, ps in params.items():
                weights, cos = pareto_weights(_flat(g_mm[m], ps),
                                              _flat(g_uni[m], ps))
                log_vars[f'mmpareto_cos_{m}'] = cos.detach()
                log_vars[f'mmpareto_k0_{m}'] = weights[0].detach()
                for p, a, b in zip(ps, g_mm[m], g_uni[m]):
                    grad = pareto_gradient(_dense(a, p), _dense(b, p),
                                           weights, self.gamma)
                    p.grad = grad if before[p] is None else before[p] + grad

        # The backward fills the heads' and the fusion's gradients (and,
        # under DDP, synchronises them); the encoders' are then replaced.
        self.update(model, optim_wrapper, parsed,
                    modulate=replace_encoder_gradients)
        return log_vars

    @staticmethod
    def encoder_gradients(optim_wrapper, fused: torch.Tensor,
                          unimodal: Dict[str, torch.Tensor],
                          params: Dict[str, List[torch.Tensor]]):
        """Per-tensor gradients of the fused and of each unimodal loss.

        They are taken on the losses as the optimiser wrapper scales them
        (gradient accumulation, AMP loss scale), in the units of ``.grad``;
        the MMPareto rule is scale-equivariant, so this changes nothing
        else. ``autograd.grad`` bypasses DDP's synchronisation: in a
        distributed run they are averaged over the ranks here.
        """
        modalities = list(params)
        flat_params = [p for m in modalities for p in params[m]]
        g_fused = torch.autograd.grad(_scaled(optim_wrapper, fused),
                                      flat_params, retain_graph=True,
                                      allow_unused=True)
        g_mm, g_uni, start = {}, {}, 0
        for m in modalities:
            n = len(params[m])
            g_mm[m] = [_dense(g, p) for g, p in
                       zip(g_fused[start:start + n], params[m])]
            start += n
            g_uni[m] = [_dense(g, p) for g, p in zip(
                torch.autograd.grad(_scaled(optim_wrapper, unimodal[m]),
                                    params[m], retain_graph=True,
                                    allow_unused=True), params[m])]
        if get_world_size() > 1:
            grads = [g for m in modalities for g in (*g_mm[m], *g_uni[m])]
            flat = torch.cat([g.reshape(-1) for g in grads])
            all_reduce(flat, op='mean')
            for g, part in zip(grads, flat.split([g.numel() for g in grads])):
                g.copy_(part.view_as(g))
        return g_mm, g_uni


def _scaled(optim_wrapper, loss: torch.Tensor) -> torch.Tensor:
    """The loss as ``optim_wrapper.backward`` differentiates it."""
    loss = optim_wrapper.scale_loss(loss)
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    return loss if scaler is None else scaler.scale(loss)

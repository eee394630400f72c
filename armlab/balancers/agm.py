"""AGM: Adaptive Gradient Modulation.

Li, Li, Hu, Lei, Li, Zhou. ICCV 2023 (configs/agm/README.md).
Each step splits the fused logits into per-modality responses, Shapley
style, from forwards with modalities' *inputs* zero-filled (so it works for
any fusion), and trains on their sum through identity branches whose
backward multiplies each response's gradient by k_m. k_m grows when a
modality's dominance r_m falls below its running mean and shrinks when it
rises above, which damps the modality that is pulling ahead.
"""
from itertools import combinations
from math import factorial
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
from torch import nn

from armlab.registry import MODELS
from .base import all_reduce_mean
from .base import Balancer
from .gradient_scaling import scale_gradient

Subset = Tuple[str, ...]


def shapley_responses(logits: Dict[Subset, torch.Tensor],
                      modalities: Sequence[str],
                      subtract_empty: bool = False
                      ) -> Dict[str, torch.Tensor]:
    """Per-modality responses o_m, the Shapley values of the logits.

    o_m = sum_{S without m} |S|! (M - |S| - 1)! / M! [f(S + m) - f(S)]; for
    M = 2: o_a = 1/2 [f(a,v) - f(0,v) + f(a,0) - f(0,0)]. The official code
    takes f(0,0) as 0 (``subtract_empty=False``), so that sum_m o_m = f(all);
    with ``subtract_empty`` it is subtracted and sum_m o_m = f(all) - f(0).

    Args:
        logits: Subset (tuple in modality order) -> logits; every non-empty
            subset, plus ``()`` when ``subtract_empty``.
        modalities: The model's modalities, in order.
    """
    num = len(modalities)
    empty = logits[()] if subtract_empty else 0

    def f(subset):
        return logits[subset] if subset else empty

    responses = {}
    for m in modalities:
        others = [x for x in modalities if x != m]
        total = 0
        for size in range(num):
            weight = factorial(size) * factorial(num - size - 1) / \
                factorial(num)
            for subset in combinations(others, size):
                with_m = tuple(x for x in modalities
                               if x in subset or x == m)
                total = total + weight * (f(with_m) - f(subset))
        responses[m] = total
    return responses


def response_scores(responses: Dict[str, torch.Tensor],
                    labels: torch.Tensor) -> torch.Tensor:
    """s_m = mean_i -log max(softmax(o_m)_i[y_i], 1e-8), without gradient."""
    with torch.no_grad():
        return torch.stack([
            -o.detach().float().softmax(1).gather(
                1, labels.view(-1, 1)).clamp_min(1e-8).log().mean()
            for o in responses.values()
        ])


def dominance(scores: torch.Tensor) -> torch.Tensor:
    """r_m = exp(mean_{j != m} s_j - s_m); for M = 2, r_a = exp(s_v - s_a)."""
    others = (scores.sum() - scores) / (scores.numel() - 1)
    return torch.exp(others - scores)


def agm_coefficients(scores: torch.Tensor, mean_scores: torch.Tensor,
                     alpha: float, max_gap: float = 10.0) -> torch.Tensor:
    """k_m = exp(alpha * min(rbar_m - r_m, max_gap)): above 1 for a modality
    whose dominance fell below its running mean, below 1 if it rose."""
    gap = dominance(mean_scores) - dominance(scores)
    return torch.exp(alpha * gap.clamp(max=max_gap))


def clip_if_head_exceeds(model: nn.Module, head: nn.Module,
                         max_norm: float = 1.0, scale: float = 1.0) -> bool:
    """Clip the global gradient norm to ``max_norm`` when any gradient entry
    of ``head``'s weight matrices leaves [-1, 1] (``scale``: an AMP loss
    scale the gradients still carry). Returns whether it clipped.

    Only the weights are read, as the official rule reads the fusion layer's
    ``weight``: a large bias gradient alone does not clip.
    """
    grads = [p.grad.detach().abs().max()
             for name, p in head.named_parameters()
             if p.grad is not None and name.rsplit('.', 1)[-1] == 'weight']
    if not grads or float(torch.stack(grads).max()) <= scale:
        return False
    params = [p for p in model.parameters() if p.grad is not None]
    nn.utils.clip_grad_norm_(params, max_norm * scale)
    return True


@MODELS.register_module()
class AGMBalancer(Balancer):
    """Adaptive gradient modulation through Shapley response branches.

    Args:
        alpha: Modulation strength alpha.
        subtract_empty: Subtract f(all inputs zero) from the responses (the
            exact Shapley value); the official code does not (default).
        clip_grad: The official rule: clip the global gradient norm to
            ``max_norm`` when a fusion-head gradient entry leaves [-1, 1].
        max_norm: Norm for ``clip_grad``.
        max_gap: Upper clamp of rbar_m - r_m in the exponent.
        start_epoch: First epoch (0-based) of modulation.
        end_epoch: First epoch after modulation (``None``: to the end);
            outside the window the step is plain joint training.
    """

    lazy_buffers = ('mean_scores', )

    def __init__(self,
                 alpha: float = 1.5,
                 subtract_empty: bool = False,
                 clip_grad: bool = True,
                 max_norm: float = 1.0,
                 max_gap: float = 10.0,
                 start_epoch: int = 0,
                 end_epoch: Optional[int] = None):
        super().__init__()
        self.alpha = alpha
        self.subtract_empty = subtract_empty
        self.clip_grad = clip_grad
        self.max_norm = max_norm
        self.max_gap = max_gap
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        # Cumulative means of the scores over iterations (checkpointed).
        self.register_buffer('mean_scores', torch.zeros(0))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        self._capture = False
        self._fused_logits: Optional[torch.Tensor] = None

    # -- coefficients -----------------------------------------------------
    def update_coefficients(self, scores: torch.Tensor) -> torch.Tensor:
        """k from this step's scores and the running means, then fold the
        scores into the means. The first step, with no history, has k = 1."""
        scores = scores.detach().float()
        if self.mean_scores.numel() != scores.numel() or \
                int(self.num_updates) == 0:
            self.mean_scores = scores.clone()
            self.num_updates.fill_(1)
            return torch.ones_like(scores)
        coeffs = agm_coefficients(scores, self.mean_scores, self.alpha,
                                  self.max_gap)
        self.num_updates += 1
        self.mean_scores += (scores - self.mean_scores) / self.num_updates
        return coeffs

    # -- forwards ---------------------------------------------------------
    def losses(self, model, feats, logits, data_samples, losses):
        if self._capture:  # the full pass of train_step: keep f(all)
            self._fused_logits = logits
        return losses

    def masked_input_logits(self, model, forward: Callable,
                            data: dict) -> Dict[Subset, torch.Tensor]:
        """f(S) for every proper subset S (the empty one only when it is
        subtracted), with the other modalities' inputs zero-filled, in eval
        mode so that BN statistics stay frozen, and with gradient."""
        subsets = [s for s in model.all_subsets()
                   if len(s) < len(model.modalities)
                   and (s or self.subtract_empty)]
        mode_owner = forward if isinstance(forward, nn.Module) else model
        was_training = mode_owner.training
        mode_owner.eval()
        try:
            out = {}
            for subset in subsets:
                inputs = {
                    k: torch.zeros_like(v)
                    if k in model.modalities and k not in subset else v
                    for k, v in data['inputs'].items()
                }
                out[subset] = forward(inputs=inputs,
                                      data_samples=data['data_samples'],
                                      mode='tensor')
        finally:
            mode_owner.train(was_training)
        return out

    def responses(self, model, forward: Callable, data: dict):
        """(losses of the full pass, f(S) for every subset S used,
        per-modality responses) of a preprocessed batch."""
        self._capture = True
        try:
            losses = forward(**data, mode='loss')
        finally:
            self._capture = False
        full, self._fused_logits = self._fused_logits, None
        if full is None:
            raise RuntimeError('AGMBalancer: the model did not pass its '
                               'fused logits to balancer.losses')
        logits = self.masked_input_logits(model, forward, data)
        logits[tuple(model.modalities)] = full
        return losses, logits, shapley_responses(logits, model.modalities,
                                                 self.subtract_empty)

    # -- the step ---------------------------------------------------------
    def train_step(self, model, data, optim_wrapper, forward=None):
        if len(model.modalities) < 2:
            raise ValueError(
                'AGMBalancer balances two or more modalities; the model has '
                f'{model.modalities}. Use JointTraining for one.')
        if not self.in_window(self.current_epoch(), self.start_epoch,
                              self.end_epoch):
            return super().train_step(model, data, optim_wrapper, forward)
        forward = forward or model
        with optim_wrapper.optim_context(forward):
            data = model.data_preprocessor(data, True)
            losses, _, responses = self.responses(model, forward, data)
            labels = self.labels(data['data_samples'])
            scores = response_scores(responses, labels)
            # The same coefficients on every rank.
            coeffs = self.update_coefficients(all_reduce_mean(scores))
            fused = sum(scale_gradient(responses[m], k)
                        for m, k in zip(model.modalities, coeffs))
            losses['loss_cls'] = model.loss_module(fused, labels)
        for m, s, k in zip(model.modalities, scores, coeffs):
            losses[f'agm_score_{m}'] = s
            losses[f'agm_coeff_{m}'] = k
        parsed, log_vars = model.parse_losses(losses)
        clipped = [False]

        def clip() -> None:
            if self.clip_grad:
                scaler = getattr(optim_wrapper, 'loss_scaler', None)
                clipped[0] = clip_if_head_exceeds(
                    model, model.fusion, self.max_norm,
                    scale=scaler.get_scale() if scaler is not None else 1.0)

        self.update(model, optim_wrapper, parsed,
                    modulate=lambda: self.after_backward(model),
                    before_step=clip)
        log_vars['agm_clipped'] = parsed.new_tensor(float(clipped[0]))
        return log_vars

"""OGM-GE: On-the-fly Gradient Modulation with Generalisation Enhancement.

Peng, Wei, Deng, Wang, Hu. CVPR 2022 (configs/ogm_ge/README.md).
Each step compares how well each modality's own logits fit the batch; after
backward, the conv kernels of the dominant modality's encoder get their
gradient shrunk by 1 - tanh(alpha * rho), and (OGM-GE) every encoder's conv
kernels get Gaussian noise as large as their gradient, which the paper argues
restores the generalisation that the smaller steps take away.
"""
from typing import Dict, List, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from .base import all_reduce_mean
from .base import Balancer


def ogm_coefficients(scores: torch.Tensor, alpha: float):
    """Discrepancy ratios and modulation coefficients.

    Args:
        scores: (M,) per-modality scores s_m, M >= 2.
        alpha: Modulation strength.

    Returns:
        tuple: ratios rho (M,), rho_m = s_m / mean_{j != m} s_j (for M = 2,
        the paper's s_a / s_v and its inverse), and coefficients k (M,):
        1 - tanh(alpha * rho_m) where rho_m > 1 (dominant), exactly 1 else.
        For M = 2 at an exact tie (rho = 1) the first modality is
        modulated, as the official code's ``else`` branch does to audio
        (its test is ``ratio_v > 1``).
    """
    num = scores.numel()
    others = (scores.sum() - scores) / (num - 1)
    ratios = scores / others.clamp_min(torch.finfo(scores.dtype).tiny)
    dominant = ratios > 1
    if num == 2 and not bool(dominant.any()):  # a tie: the official else
        dominant = torch.tensor([True, False], device=ratios.device)
    coeffs = torch.where(dominant, 1 - torch.tanh(alpha * ratios),
                         torch.ones_like(ratios))
    return ratios, coeffs


def per_modality_logits(model, feats: Dict[str, torch.Tensor],
                        score: str = 'decompose',
                        owner: str = 'OGMGEBalancer'
                        ) -> Dict[str, torch.Tensor]:
    """Modality -> (B, K) logits of that modality alone, with whatever
    gradient ``feats`` carry: the fusion's decomposed logits
    (``'decompose'``, e.g. W_m h_m + b / M for concat, as OGM-GE, OPM and
    InfoReg) or the fused head with only m present (``'mask'``). ``owner``
    names the method in errors."""
    if len(model.modalities) < 2:
        raise ValueError(
            f'{owner} balances two or more modalities; the model has '
            f'{model.modalities}. Use JointTraining for one.')
    if score == 'mask':
        masked = model.masked_logits(feats, [(m, ) for m in model.modalities])
        return {m: masked[(m, )] for m in model.modalities}
    if not model.fusion.decomposable:
        raise ValueError(
            f'{owner}: {type(model.fusion).__name__} is not '
            "decomposable, so score='decompose' has no per-modality "
            "logits; use ConcatFusion or SumFusion, or set "
            "score='mask' to score the fused head with one "
            'modality present.')
    return model.fusion.decompose(feats, weights=model.modality_weights)


def label_probability_sums(logits: Dict[str, torch.Tensor],
                           labels: torch.Tensor,
                           modalities) -> torch.Tensor:
    """(M,) s_m = sum_i softmax(z_m)_i[y_i], without gradient."""
    return torch.stack([
        logits[m].detach().float().softmax(1).gather(
            1, labels.view(-1, 1)).sum() for m in modalities
    ])


def modality_scores(model, feats: Dict[str, torch.Tensor],
                    labels: torch.Tensor, score: str = 'decompose',
                    owner: str = 'OGMGEBalancer') -> torch.Tensor:
    """(M,) scores s_m = sum_i softmax(z_m)_i[y_i] of the batch, without
    gradient; z_m from :func:`per_modality_logits`."""
    with torch.no_grad():
        feats = {m: f.detach() for m, f in feats.items()}
        logits = per_modality_logits(model, feats, score, owner)
        return label_probability_sums(logits, labels, model.modalities)


def conv_kernels(module: nn.Module) -> List[nn.Parameter]:
    """The 4-D (conv) weights that OGM modulates; BN, biases and linear
    layers are left alone, as in the paper."""
    return [p for p in module.parameters() if p.dim() == 4]


@MODELS.register_module()
class OGMGEBalancer(Balancer):
    """Gradient modulation of the dominant modality's encoder (OGM / OGM-GE).

    Args:
        alpha: Modulation strength alpha.
        mode: ``'OGM-GE'`` (scaling plus Gaussian noise) or ``'OGM'``
            (scaling only).
        start_epoch: First epoch (0-based) of the modulation window.
        end_epoch: First epoch after the window (``None``: to the end).
        score: Where per-modality logits come from: ``'decompose'`` (the
            fusion's decomposed logits, e.g. W_m h_m + b / M for concat, as
            the paper) or ``'mask'`` (the fused head with only m present;
            the only choice for FiLM or gated fusion).
        noise_eps: Added to the gradient's std to form the noise std.
    """

    MODES = ('OGM-GE', 'OGM')
    SCORES = ('decompose', 'mask')

    def __init__(self,
                 alpha: float = 0.8,
                 mode: str = 'OGM-GE',
                 start_epoch: int = 0,
                 end_epoch: Optional[int] = None,
                 score: str = 'decompose',
                 noise_eps: float = 1e-8):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'OGMGEBalancer mode must be one of '
                             f'{self.MODES}, got {mode!r}')
        if score not in self.SCORES:
            raise ValueError(f'OGMGEBalancer score must be one of '
                             f'{self.SCORES}, got {score!r}')
        self.alpha = alpha
        self.mode = mode
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.score = score
        self.noise_eps = noise_eps
        # The noise must be the same on every rank (gradients are already
        # synchronised when it is added): its generator is seeded from this
        # buffer, which DDP broadcasts from rank 0, and the iteration.
        self.register_buffer(
            'noise_seed', torch.tensor(torch.initial_seed() % 2**62))
        self._coeffs: Optional[torch.Tensor] = None
        self._draw = (-1, 0)  # (iteration, noise draws in it)

    # -- scores and coefficients ------------------------------------------
    def modality_scores(self, model, feats: Dict[str, torch.Tensor],
                        labels: torch.Tensor) -> torch.Tensor:
        """s_m = sum_i softmax(z_m)_i[y_i], without gradient."""
        return modality_scores(model, feats, labels, self.score,
                               type(self).__name__)

    def losses(self, model, feats, logits, data_samples, losses):
        scores = self.modality_scores(model, feats,
                                      self.labels(data_samples))
        # One ratio for all ranks (a mean of sums has the sums' ratios).
        ratios, self._coeffs = ogm_coefficients(all_reduce_mean(scores),
                                                self.alpha)
        losses['ogm_ratio'] = ratios[0]
        for m, k in zip(model.modalities, self._coeffs):
            losses[f'ogm_coeff_{m}'] = k
        return losses

    # -- gradient modulation ----------------------------------------------
    def after_backward(self, model) -> None:
        """g <- k_m g (+ N(0, (std(g) + eps)^2), std of the unscaled g)."""
        coeffs, self._coeffs = self._coeffs, None
        if coeffs is None or not self.in_window(
                self.current_epoch(), self.start_epoch, self.end_epoch):
            return
        generator = None
        for k, m in zip(coeffs, model.modalities):
            kernels = conv_kernels(model.encoders[m])
            if not kernels:
                raise ValueError(
                    f'OGMGEBalancer modulates conv kernels (4-D weights), '
                    f'as the paper does; encoder {m!r} '
                    f'({type(model.encoders[m]).__name__}) has none, so it '
                    'would never be modulated. Use a convolutional encoder.')
            for p in kernels:
                if p.grad is None:
                    continue
                grad = p.grad
                # The official code draws the noise with the std of the
                # gradient before it is scaled (right-hand side first).
                std = grad.std() if grad.numel() > 1 else grad.new_zeros(())
                grad.mul_(k.to(grad.dtype))
                if self.mode == 'OGM-GE':
                    generator = generator or self._noise_generator(
                        grad.device)
                    noise = torch.randn(grad.shape, generator=generator,
                                        device=grad.device, dtype=grad.dtype)
                    grad.add_(noise * (std + self.noise_eps))

    def _noise_generator(self, device) -> torch.Generator:
        """A generator seeded by (run seed, iteration, draw in iteration),
        identical on every rank and different at every micro-step."""
        it = self.current_iter()
        self._draw = (it, self._draw[1] + 1 if self._draw[0] == it else 0)
        seed = (int(self.noise_seed) * 1_000_003 + it * 1_009 +
                self._draw[1]) % (2**63 - 1)
        return torch.Generator(device=device).manual_seed(seed)


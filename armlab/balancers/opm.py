"""OPM: On-the-fly Prediction Modulation.

Wei, Hu, Du, Wen, "On-the-fly Modulation for Balanced Multimodal Learning",
IEEE TPAMI 2024 (configs/opm/README.md). The dominant modality suppresses the
other already in the forward pass: its features make the fused prediction
confident, so the weak encoder receives little learning signal. OPM drops the
dominant modality's features per sample, with a probability that grows with
how much it dominates the batch, and trains the fused head on what is left:

* scores s_m = sum_i softmax(z_m)_i[y_i] on the decomposed logits (as OGM-GE),
  ratios rho_m = s_m / mean_{j != m} s_j;
* drop probability q_m = clip(q_base (1 + lambda tanh(rho_m - 1)), 0, 1) where
  rho_m > 1, else 0 (the weak modality is never dropped);
* each batch is modulated with probability p_exe; then kappa_{m,i} ~
  Bernoulli(1 - q_m) per sample and modality, every modality's features are
  divided by 1 - theta, theta = sum_m d_m q_m / sum_m d_m (the kept features
  carry the expected mass of the dropped ones, the weak modality's too, as in
  the official code), rows that lost every modality are removed, and the
  fused cross-entropy on the modulated features replaces the plain one.

Never at evaluation; plain epochs before ``warmup_epochs`` (the code's six).
"""
from typing import Dict, Optional

import torch
from mmengine.dist import get_dist_info

from armlab.registry import MODELS
from armlab.utils.seeding import draw_seed
from .base import Balancer, all_reduce_mean
from .ogm_ge import modality_scores, ogm_coefficients


def drop_probabilities(ratios: torch.Tensor, q_base: float,
                       lam: float) -> torch.Tensor:
    """q_m = clip(q_base (1 + lam tanh(rho_m - 1)), 0, 1) where rho_m > 1,
    else 0."""
    q = (q_base * (1 + lam * torch.tanh(ratios - 1))).clamp(0.0, 1.0)
    return torch.where(ratios > 1, q, torch.zeros_like(q))


def feature_rescale(q: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
    """1 / (1 - theta), theta = sum_m d_m q_m / sum_m d_m: the factor every
    modality's kept features are multiplied by."""
    theta = (dims * q).sum() / dims.sum()
    return 1.0 / (1.0 - theta).clamp_min(1e-6)


@MODELS.register_module()
class OPMBalancer(Balancer):
    """Per-sample dropping of the dominant modality's features (OPM).

    Args:
        q_base: Base drop probability (the code's scripts: 0.5).
        lam: lambda, how fast q grows with the ratio (0.5).
        p_exe: Probability that a batch is modulated (0.7).
        warmup_epochs: Plain epochs first (the code: epochs 0-5, so 6).
        end_epoch: First epoch after the modulation (None: to the end).
        score: 'decompose' (the paper's decomposed concat logits) or 'mask'
            (the fused head with one modality present, for fusions that do
            not decompose).
        seed: Seed of the gate and mask draws, with the iteration and rank.
    """

    SCORES = ('decompose', 'mask')

    def __init__(self,
                 q_base: float = 0.5,
                 lam: float = 0.5,
                 p_exe: float = 0.7,
                 warmup_epochs: int = 6,
                 end_epoch: Optional[int] = None,
                 score: str = 'decompose',
                 seed: int = 0):
        super().__init__()
        if score not in self.SCORES:
            raise ValueError(f'OPMBalancer score must be one of '
                             f'{self.SCORES}, got {score!r}')
        for name, value in (('q_base', q_base), ('p_exe', p_exe)):
            if not 0 <= value <= 1:
                raise ValueError(f'OPMBalancer {name} must be in [0, 1], '
                                 f'got {value}')
        self.q_base = q_base
        self.lam = lam
        self.p_exe = p_exe
        self.warmup_epochs = warmup_epochs
        self.end_epoch = end_epoch
        self.score = score
        self.seed = seed

    def _generator(self, device) -> torch.Generator:
        """Draws that depend on (seed, iteration, rank) only: a resumed run
        draws what the uninterrupted one drew."""
        rank, _ = get_dist_info()
        return torch.Generator(device=device).manual_seed(
            draw_seed(self.seed, self.current_iter(), rank))

    def losses(self, model, feats, logits, data_samples, losses):
        if not (model.training and self.in_window(
                self.current_epoch(), self.warmup_epochs, self.end_epoch)):
            return losses
        labels = self.labels(data_samples)
        scores = modality_scores(model, feats, labels, self.score,
                                 type(self).__name__)
        ratios, _ = ogm_coefficients(all_reduce_mean(scores), alpha=1.0)
        q = drop_probabilities(ratios, self.q_base, self.lam)
        for m, value in zip(model.modalities, q):
            losses[f'opm_q_{m}'] = value
        generator = self._generator(labels.device)
        gate = torch.rand((), generator=generator, device=labels.device)
        if float(gate) >= self.p_exe or not bool((q > 0).any()):
            return losses
        keep = torch.rand((len(labels), len(q)), generator=generator,
                          device=labels.device) >= q
        present = model._present(data_samples)
        if present is not None:
            keep = keep & present.to(keep.device)
        rows = keep.any(dim=1)
        dims = torch.tensor([float(feats[m].shape[1])
                             for m in model.modalities], device=q.device)
        scale = feature_rescale(q, dims)
        modulated = self.modulated_logits(model, feats, keep, scale)
        losses['loss_cls'] = model.loss_module(modulated[rows], labels[rows])
        return losses

    @staticmethod
    def modulated_logits(model, feats: Dict[str, torch.Tensor],
                         keep: torch.Tensor,
                         scale: torch.Tensor) -> torch.Tensor:
        """Fused logits of kappa_m h_m / (1 - theta): every modality scaled,
        the dropped ones absent (the fusion's fill, zero by default)."""
        scaled = {m: f * scale for m, f in feats.items()}
        return model.fuse(scaled, present=keep)

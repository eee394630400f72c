"""MBSD: modality-balanced self-distillation.

The method BalanceBenchmark calls MBSD (after "Multimodal Pre-Training with
Self-Distillation for Product Understanding in E-Commerce", WSDM 2023;
configs/mbsd/README.md), as BalanceBenchmark's trainer reads it, with its
KL term computed as a KL. Besides the fused and per-modality
cross-entropies, the weaker modality of each sample is distilled towards the
stronger one, in proportion to how far apart they are on the true class:

* z_a, z_v the decomposed per-modality logits, p_m = softmax(z_m);
* w_i = |p_a(y_i) - p_v(y_i)| when either modality predicts sample i
  correctly, else 0 (no trustworthy teacher), without gradient;
* s_i the modality with the larger p_m(y_i) (the teacher, detached), t_i the
  other;
* L = CE(z, y) + sum_m CE(z_m, y)
      + mean_i w_i [ ||z_a,i - z_v,i||^2 / K + KL(p_s,i || p_t,i) ].
"""
import torch
import torch.nn.functional as F

from armlab.registry import MODELS
from .base import Balancer
from .ogm_ge import per_modality_logits


def distillation_weights(p_a: torch.Tensor, p_v: torch.Tensor,
                         labels: torch.Tensor) -> torch.Tensor:
    """(B,) w_i = |p_a(y) - p_v(y)| where either argmax is y, else 0."""
    pa_y = p_a.gather(1, labels[:, None])[:, 0]
    pv_y = p_v.gather(1, labels[:, None])[:, 0]
    either = (p_a.argmax(1) == labels) | (p_v.argmax(1) == labels)
    return (pa_y - pv_y).abs() * either.to(pa_y.dtype)


def distillation_terms(a: torch.Tensor, v: torch.Tensor,
                       labels: torch.Tensor):
    """Per-sample (B,) weights w_i (no gradient), logit gaps
    ||a_i - v_i||^2 / K and KL(p_s,i || p_t,i) with the teacher s_i (the
    modality with the larger true-class probability) detached."""
    p_a, p_v = a.softmax(1), v.softmax(1)
    with torch.no_grad():
        weights = distillation_weights(p_a, p_v, labels)
        a_teaches = (p_a.gather(1, labels[:, None]) >=
                     p_v.gather(1, labels[:, None]))
    teacher = torch.where(a_teaches, a, v).detach()
    student = torch.where(a_teaches, v, a)
    kl = F.kl_div(student.log_softmax(1), teacher.log_softmax(1),
                  log_target=True, reduction='none').sum(1)
    gap = (a - v).pow(2).sum(1) / a.shape[1]
    return weights, gap, kl


@MODELS.register_module()
class MBSDBalancer(Balancer):
    """Fused and unimodal cross-entropies plus the weighted
    self-distillation from each sample's stronger modality.

    Args:
        score: Per-modality logits: ``'decompose'`` (the fusion's
            decomposition, BalanceBenchmark's) or ``'mask'``.
    """

    SCORES = ('decompose', 'mask')

    def __init__(self, score: str = 'decompose'):
        super().__init__()
        if score not in self.SCORES:
            raise ValueError(f'MBSDBalancer score must be one of '
                             f'{self.SCORES}, got {score!r}')
        self.score = score

    def losses(self, model, feats, logits, data_samples, losses):
        if len(model.modalities) != 2:
            raise ValueError(
                'MBSDBalancer distils between exactly two modalities (each '
                "sample's stronger one teaches the other); the model has "
                f'{model.modalities}')
        labels = self.labels(data_samples)
        parts = per_modality_logits(model, feats, self.score, 'MBSDBalancer')
        a, v = (parts[m].float() for m in model.modalities)
        out = dict(losses)
        for m in model.modalities:
            out[f'loss_{m}'] = F.cross_entropy(parts[m], labels)
        weights, gap, kl = distillation_terms(a, v, labels)
        out['loss_distill'] = (weights * (gap + kl)).mean()
        return out

"""LFM: learning the modality gap dynamically.

Yang, Wan, Jiang, Xu, "Facilitating Multimodal Classification via
Dynamically Learning Modality Gap", NeurIPS 2024 (configs/lfm/README.md).
Modalities fit the labels at different difficulty; a supervised loss alone
lets the easy one decide. LFM mixes the cross-entropy of the averaged
per-modality heads with an unsupervised agreement term between their class
posteriors, with a weight that moves during training:

    L = 2 (alpha_1 CE(mean_m z_m, y) + alpha_2 mean_{m<m'} JS(p_m, p_m')),
    alpha_1 + alpha_2 = 1,

z_m the separate linear heads of ``SumFusion`` (their sum is the fused
logit; its argmax is the mean's), p_m = softmax(z_m), JS the Jensen-Shannon
divergence. alpha_1 follows the released code's fitted polynomial in the
epoch (``schedule='poly'``, on the code's 200-epoch axis scaled to the run),
stays fixed (``'fixed'``), or is learned (``'learned'``, the released code's
bi-level variant as read): after every epoch :class:`LFMHook` takes one step
alpha_2 <- clip(alpha_2 - eta * g, 0.05, 0.95) from alpha_2 = 0.95, with g
the mean over the model's first parameter tensor of the Hessian-vector
product H(L) grad(L_cls), both losses on a fixed batch of held-out training
samples, and eta halved every 20 epochs of the code's axis.
"""
from itertools import combinations
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from armlab.datasets.train_eval import (held_out_loader_cfg,
                                        train_eval_loader_cfg)
from armlab.registry import HOOKS, MODELS
from .base import Balancer, unwrap_model

#: alpha_1(t) = sum_i c_i t^i, the released code's fitted label weight.
POLY_COEFFS = (0.204624, 3.35473e-3, 1.22990e-4, -2.92947e-6, 2.23835e-8,
               -5.39718e-11)


def poly_label_weight(epoch: float,
                      coeffs: Sequence[float] = POLY_COEFFS) -> float:
    """alpha_1 at ``epoch`` of the code's 200-epoch schedule (not clipped:
    the code's alpha_2 is slightly negative around epochs 175-190)."""
    return sum(c * epoch ** i for i, c in enumerate(coeffs))


def js_divergence(p: torch.Tensor, q: torch.Tensor,
                  eps: float = 1e-12) -> torch.Tensor:
    """Batch mean of JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2, m the
    midpoint, for (B, K) probability rows; 0 iff p = q, at most log 2."""
    mid = 0.5 * (p + q)

    def kl(a, b):
        return (a * ((a + eps).log() - (b + eps).log())).sum(1)

    return (0.5 * kl(p, mid) + 0.5 * kl(q, mid)).mean()


@MODELS.register_module()
class LFMBalancer(Balancer):
    """Label loss and posterior agreement, mixed by a moving weight.

    Args:
        schedule: ``'poly'`` (the released code's heuristic) or
            ``'fixed'``.
        label_weight: alpha_1 when ``schedule='fixed'``.
        poly_epochs: Length of the schedule the polynomial was fitted to
            (the code's 200 epochs): epoch e of a run of E epochs reads the
            polynomial at e * poly_epochs / E.
    """

    SCHEDULES = ('poly', 'fixed', 'learned')

    def __init__(self,
                 schedule: str = 'poly',
                 label_weight: float = 0.5,
                 poly_epochs: int = 200,
                 align_weight_init: float = 0.95,
                 hyper_lr: float = 1e-4,
                 hyper_lr_halving: int = 20,
                 align_weight_range: Sequence[float] = (0.05, 0.95)):
        super().__init__()
        if schedule not in self.SCHEDULES:
            raise ValueError(f'LFMBalancer schedule must be one of '
                             f'{self.SCHEDULES}, got {schedule!r}')
        if not 0 <= label_weight <= 1:
            raise ValueError(f'LFMBalancer label_weight must be in [0, 1], '
                             f'got {label_weight}')
        low, high = align_weight_range
        if not 0 <= low <= align_weight_init <= high <= 1:
            raise ValueError(
                'LFMBalancer needs 0 <= align_weight_range[0] <= '
                'align_weight_init <= align_weight_range[1] <= 1, got '
                f'{align_weight_init} in {tuple(align_weight_range)}')
        self.schedule = schedule
        self.label_weight = label_weight
        self.poly_epochs = poly_epochs
        self.hyper_lr = hyper_lr
        self.hyper_lr_halving = hyper_lr_halving
        self.align_weight_range = (float(low), float(high))
        #: alpha_2 of the learned schedule (in the checkpoint, so that a
        #: resumed run continues from the learned value).
        self.register_buffer('align_weight',
                             torch.tensor(float(align_weight_init)))
        #: Set by LFMHook before training: the learned schedule without its
        #: hook would silently keep alpha_2 at its initial value.
        self.hook_attached = False

    def alpha(self, epoch: int, max_epochs: Optional[int]) -> float:
        """alpha_1 of ``epoch`` in a run of ``max_epochs``."""
        if self.schedule == 'fixed':
            return self.label_weight
        if self.schedule == 'learned':
            return 1.0 - float(self.align_weight)
        scale = self.poly_epochs / max_epochs if max_epochs else 1.0
        return poly_label_weight(epoch * scale)

    def losses(self, model, feats, logits, data_samples, losses):
        fusion = model.fusion
        if type(fusion).__name__ != 'SumFusion':
            raise ValueError(
                'LFMBalancer needs separate per-modality heads whose mean is '
                "the prediction: set model.fusion=dict(type='SumFusion'), "
                f'got {type(fusion).__name__}')
        if len(model.modalities) < 2:
            raise ValueError(f'LFMBalancer aligns two or more modalities; '
                             f'the model has {model.modalities}')
        if not model.training:
            return losses
        if self.schedule == 'learned' and not self.hook_attached:
            raise KeyError("LFMBalancer schedule='learned' needs LFMHook in "
                           "custom_hooks (custom_hooks = [dict(type="
                           "'LFMHook')]), which takes the step of alpha_2 "
                           'after every epoch')
        labels = self.labels(data_samples)
        hub = MessageHub.get_current_instance()
        a1 = self.alpha(self.current_epoch(), hub.get_info('max_epochs'))
        cls, align = self.terms(model, feats, logits, labels)
        losses['loss_cls'] = 2 * a1 * cls
        losses['loss_align'] = 2 * (1 - a1) * align
        losses['lfm_label_weight'] = logits.new_tensor(a1)
        return losses

    def terms(self, model, feats: Dict[str, torch.Tensor],
              logits: torch.Tensor, labels: torch.Tensor):
        """L_cls = CE(mean_m z_m, y) and L_align = the mean pairwise JS of
        the heads' posteriors, unweighted."""
        parts = model.fusion.decompose(feats, weights=model.modality_weights)
        probs = {m: z.float().softmax(1) for m, z in parts.items()}
        align = torch.stack([js_divergence(probs[a], probs[b]) for a, b in
                             combinations(model.modalities, 2)]).mean()
        cls = model.loss_module(logits / len(model.modalities), labels)
        return cls, align

    # -- the learned schedule (called by LFMHook) -----------------------------
    def hyper_lr_at(self, epoch: int, max_epochs: Optional[int]) -> float:
        """eta halved every ``hyper_lr_halving`` epochs of the code's axis
        (epoch e of E reads e * poly_epochs / E)."""
        scale = self.poly_epochs / max_epochs if max_epochs else 1.0
        return self.hyper_lr * 0.5 ** int(epoch * scale //
                                          self.hyper_lr_halving)

    def hypergradient(self, model, data: dict) -> float:
        """g = mean over the first trainable parameter tensor of
        H(L) grad(L_cls), L = 2 (alpha_1 L_cls + alpha_2 L_align), on the
        preprocessed batch ``data``, in eval mode (no batch-statistics
        update)."""
        was_training = model.training
        model.eval()
        try:
            params = [p for p in model.parameters() if p.requires_grad]
            feats = model.extract_feat(data['inputs'])
            logits = model.fuse(feats)
            labels = self.labels(data['data_samples'])
            cls, align = self.terms(model, feats, logits, labels)
            a2 = float(self.align_weight)
            total = 2 * ((1 - a2) * cls + a2 * align)
            g_cls = torch.autograd.grad(cls, params, retain_graph=True,
                                        allow_unused=True)
            g_total = torch.autograd.grad(total, params, create_graph=True,
                                          allow_unused=True)
            dot = sum((gt * gc.detach()).sum()
                      for gt, gc in zip(g_total, g_cls)
                      if gt is not None and gc is not None)
            (hvp, ) = torch.autograd.grad(dot, params[0], allow_unused=True)
        finally:
            model.train(was_training)
        return 0.0 if hvp is None else float(hvp.mean())

    def learn_step(self, model, data: dict, epoch: int,
                   max_epochs: Optional[int]) -> Dict[str, float]:
        """One hypergradient step of alpha_2, clipped to the range."""
        grad = self.hypergradient(model, data)
        lr = self.hyper_lr_at(epoch, max_epochs)
        low, high = self.align_weight_range
        new = min(max(float(self.align_weight) - lr * grad, low), high)
        self.align_weight.fill_(new)
        return dict(hypergradient=grad, hyper_lr=lr, align_weight=new)


@HOOKS.register_module()
class LFMHook(Hook):
    """The learned schedule's step after every training epoch (before that
    epoch's checkpoint is saved), on the first ``num_samples`` samples of
    the held-out part of the training split (test pipeline; the train
    dataset needs ``holdout``), a fixed batch as in the released code."""

    priority = 'NORMAL'

    def __init__(self, num_samples: int = 8):
        if num_samples < 1:
            raise ValueError(f'LFMHook num_samples must be >= 1, got '
                             f'{num_samples}')
        self.num_samples = num_samples
        self._batch: Optional[dict] = None

    def batch(self, runner: Runner, model) -> dict:
        """The fixed held-out batch, preprocessed, built on first use."""
        if self._batch is None:
            cfg = held_out_loader_cfg(train_eval_loader_cfg(runner.cfg),
                                      "LFMBalancer schedule='learned'")
            cfg['batch_size'] = self.num_samples
            cfg['num_workers'] = 0
            loader = runner.build_dataloader(cfg, seed=runner.seed)
            data = model.data_preprocessor(next(iter(loader)), False)
            self._batch = data
        return self._batch

    @staticmethod
    def _parts(runner: Runner):
        model = unwrap_model(runner.model)
        if not isinstance(model.balancer, LFMBalancer):
            raise TypeError('LFMHook needs model.balancer = LFMBalancer, got '
                            f'{type(model.balancer).__name__}')
        return model, model.balancer

    def before_train(self, runner: Runner) -> None:
        self._parts(runner)[1].hook_attached = True

    def after_train_epoch(self, runner: Runner) -> None:
        model, balancer = self._parts(runner)
        if balancer.schedule != 'learned':
            return
        info = balancer.learn_step(model, self.batch(runner, model),
                                   runner.epoch, runner.max_epochs)
        runner.logger.info(
            f'LFM epoch {runner.epoch}: hypergradient '
            f"{info['hypergradient']:.4g}, eta {info['hyper_lr']:.3g}, "
            f"alpha_2 -> {info['align_weight']:.6f}")

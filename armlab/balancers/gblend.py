"""Gradient-Blending: loss weights from each head's overfitting-to-generalisation ratio.

Wang, Tran, Feiszli, "What Makes Training Multi-modal Classification Networks
Hard?", CVPR 2020 (configs/gblend/README.md). A multimodal network overfits
faster than its unimodal parts. G-Blending trains unimodal heads H_m on the
shared encoders beside the fused head and blends the losses,

    L = w_fused CE(z, y) + sum_m w_m CE(H_m(h_m), y),   sum_k w_k = 1,

with weights that favour the heads whose loss generalises: for each variant
k (each modality's head, and the fused head), a trial trains it alone for n
epochs from the current state; its train and held-out losses L_T, L_V before
(N) and after (N + n) give O = L_V - L_T (overfitting), dO = O_{N+n} - O_N
and dG = L_V(N) - L_V(N+n) (generalisation), and w_k ∝ dG_k / dO_k^2
(paper; ``rule='multibench'``: |L_V(N+n) / O_{N+n}^2|, MultiBench's default
``delta=False``). The held-out losses are measured on a part of the *training*
split that is never trained on (the dataset's ``holdout``); validation and
test are untouched. The trials leave the live model, the optimiser and the
random streams as they found them.
"""
import copy
import random
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.datasets.train_eval import (held_out_loader_cfg,
                                        train_eval_loader_cfg)
from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.registry import HOOKS, MODELS
from .base import Balancer, unwrap_model

#: The variant name of the fused head (after the modalities').
FUSED = 'fused'
RULES = ('paper', 'multibench')


def blend_weights(before: np.ndarray, after: np.ndarray, rule: str = 'paper',
                  eps: float = 1e-4) -> np.ndarray:
    """Normalised blending weights of K variants.

    Args:
        before: (K, 2) train and held-out losses (L_T, L_V) at N.
        after: (K, 2) the same after each variant's n-epoch trial.
        rule: ``'paper'``: w ∝ max(dG, 0) / dO^2 with |dO| floored at
            ``eps`` (a head whose held-out loss rose gets 0); ``'multibench'``:
            w ∝ |L_V(N+n)| / O_{N+n}^2, O floored at ``eps`` when below it.
        eps: The floor that keeps a zero overfitting from dividing by 0.

    Returns:
        (K,) weights summing to 1; uniform when every raw weight is 0.
    """
    if rule not in RULES:
        raise ValueError(f'G-Blending rule must be one of {RULES}, got '
                         f'{rule!r}')
    before, after = np.asarray(before, float), np.asarray(after, float)
    if before.shape != after.shape or before.ndim != 2 or \
            before.shape[1] != 2:
        raise ValueError(f'blend_weights takes (K, 2) loss arrays, got '
                         f'{before.shape} and {after.shape}')
    over_before = before[:, 1] - before[:, 0]
    over_after = after[:, 1] - after[:, 0]
    if rule == 'paper':
        gain = np.maximum(before[:, 1] - after[:, 1], 0.0)
        delta = np.maximum(np.abs(over_after - over_before), eps)
        raw = gain / delta ** 2
    else:
        raw = np.abs(after[:, 1]) / np.maximum(over_after, eps) ** 2
    total = raw.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(len(raw), 1.0 / len(raw))
    return raw / total


@MODELS.register_module()
class GBlendBalancer(Balancer):
    """The blended loss of the fused head and one head per modality.

    Args:
        heads: The unimodal heads H_m: ``'separate'`` (the paper's and
            MultiBench's: a linear head per modality on its features, the
            model's ``aux_heads``, here trained with gradient into the
            encoder) or ``'masked'`` (BalanceBenchmark's: the fused head
            with only m present, no extra parameters).
    """

    HEADS = ('separate', 'masked')
    required_hooks = ('GBlendHook', )
    lazy_buffers = ('blend_weights', )

    def __init__(self, heads: str = 'separate'):
        super().__init__()
        if heads not in self.HEADS:
            raise ValueError(f'GBlendBalancer heads must be one of '
                             f'{self.HEADS}, got {heads!r}')
        self.heads = heads
        #: (M + 1,) weights, modalities in model order then the fused head;
        #: empty until the hook's first estimate (uniform until then).
        self.register_buffer('blend_weights', torch.zeros(0))

    @staticmethod
    def variants(model) -> List[str]:
        """The blended heads: each modality's, then the fused one."""
        return list(model.modalities) + [FUSED]

    def unimodal_logits(self, model, feats: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
        """H_m(h_m) for every modality m."""
        if self.heads == 'masked':
            subsets = [(m, ) for m in model.modalities]
            logits = model.masked_logits(feats, subsets)
            return {m: logits[(m, )] for m in model.modalities}
        if model.aux_heads is None:
            raise ValueError(
                "GBlendBalancer heads='separate' trains one linear head per "
                'modality: set model.aux_heads=True (or heads=\'masked\')')
        return {m: model.aux_heads[m](feats[m]) for m in model.modalities}

    def variant_losses(self, model, feats: Dict[str, torch.Tensor],
                       labels: torch.Tensor,
                       fused: Optional[torch.Tensor] = None
                       ) -> Dict[str, torch.Tensor]:
        """Per-sample cross-entropy of every variant's head, (B,) each."""
        logits = self.unimodal_logits(model, feats)
        logits[FUSED] = model.fuse(feats) if fused is None else fused
        return {k: F.cross_entropy(z.float(), labels, reduction='none')
                for k, z in logits.items()}

    def weights(self, model) -> torch.Tensor:
        """The current (M + 1,) weights, uniform before the first estimate."""
        num = len(model.modalities) + 1
        if self.blend_weights.numel() != num:
            return self.blend_weights.new_full((num, ), 1.0 / num)
        return self.blend_weights

    def set_weights(self, weights: Sequence[float]) -> None:
        self.blend_weights = torch.as_tensor(
            np.asarray(weights, dtype=np.float32),
            device=self.blend_weights.device)

    def losses(self, model, feats, logits, data_samples, losses):
        labels = self.labels(data_samples)
        weights = self.weights(model)
        heads = self.unimodal_logits(model, feats)
        out = {k: v for k, v in losses.items() if k != 'loss_cls'}
        if self.heads == 'separate':
            out.pop('loss_aux', None)  # the heads are trained here, blended
        out['loss_cls'] = weights[-1] * losses['loss_cls']
        for i, m in enumerate(model.modalities):
            out[f'loss_{m}'] = weights[i] * F.cross_entropy(heads[m], labels)
        for k, w in zip(self.variants(model), weights.tolist()):
            out[f'gblend_weight_{k}'] = logits.new_tensor(w)
        return out


def rng_state() -> dict:
    """Every random stream a training step may draw from."""
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    np.random.set_state(state['numpy'])
    random.setstate(state['python'])
    if 'cuda' in state:
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class GBlendHook(Hook):
    """Estimate the blending weights before every super-epoch.

    Before epoch e with e % ``super_epoch`` == 0 (only e = 0 when
    ``online=False``): measure every head's train and held-out loss, train
    each variant alone for ``trial_epochs`` epochs from the current state
    (its own cross-entropy only, the current learning rate, the training
    loader), measure again, restore model, optimiser and random streams, and
    set the balancer's weights by :func:`blend_weights`.

    Args:
        super_epoch: n, epochs between estimates.
        trial_epochs: Length of each trial (default: ``super_epoch``, the
            paper's); shorter trials cut the (M + 1) x n epochs of extra
            training per estimate.
        online: Re-estimate every super-epoch (paper's online G-Blend), or
            once before training (offline).
        rule: ``'paper'`` or ``'multibench'`` (:func:`blend_weights`).
        eps: Floor of the overfitting terms.
        train_fraction: Share of the training part whose loss L_T is
            measured (a seeded subset, the same before and after a trial).
        dataloader: The training split read with the test pipeline (derived
            from the train loader by default); the held-out part is the same
            loader with ``holdout.part='held_out'``.
        seed: Seed of the measured subset (with the epoch).
    """

    priority = 'NORMAL'

    def __init__(self,
                 super_epoch: int = 10,
                 trial_epochs: Optional[int] = None,
                 online: bool = True,
                 rule: str = 'paper',
                 eps: float = 1e-4,
                 train_fraction: float = 1.0,
                 dataloader='train_eval_dataloader',
                 seed: int = 0):
        if super_epoch < 1:
            raise ValueError(f'GBlendHook super_epoch must be >= 1, got '
                             f'{super_epoch}')
        if rule not in RULES:
            raise ValueError(f'GBlendHook rule must be one of {RULES}, got '
                             f'{rule!r}')
        if not 0 < train_fraction <= 1:
            raise ValueError(f'GBlendHook train_fraction must be in (0, 1], '
                             f'got {train_fraction}')
        self.super_epoch = super_epoch
        self.trial_epochs = super_epoch if trial_epochs is None \
            else trial_epochs
        if self.trial_epochs < 1:
            raise ValueError(f'GBlendHook trial_epochs must be >= 1, got '
                             f'{self.trial_epochs}')
        self.online = online
        self.rule = rule
        self.eps = eps
        self.train_fraction = train_fraction
        self._dataloader = dataloader
        self._train: Optional[TrainingSetValuation] = None
        self._held_out: Optional[TrainingSetValuation] = None
        self.seed = seed

    def due(self, epoch: int) -> bool:
        """Whether an estimate runs before ``epoch``."""
        return epoch == 0 or (self.online and epoch % self.super_epoch == 0)

    def before_train_epoch(self, runner: Runner) -> None:
        if not self.due(runner.epoch):
            return
        model = unwrap_model(runner.model)
        balancer = model.balancer
        if not isinstance(balancer, GBlendBalancer):
            raise TypeError(f'GBlendHook sets the weights of a '
                            f'GBlendBalancer; the model has '
                            f'{type(balancer).__name__}')
        variants = balancer.variants(model)
        saved = (copy.deepcopy(model.state_dict()),
                 copy.deepcopy(runner.optim_wrapper.state_dict()), rng_state())
        try:
            before = self.measure(runner, model)
            after = np.zeros_like(before)
            for k, variant in enumerate(variants):
                self.trial(runner, model, variant)
                after[k] = self.measure(runner, model)[k]
                model.load_state_dict(saved[0])
                runner.optim_wrapper.load_state_dict(
                    copy.deepcopy(saved[1]))
        finally:
            model.load_state_dict(saved[0])
            runner.optim_wrapper.load_state_dict(saved[1])
            set_rng_state(saved[2])
        weights = blend_weights(before, after, self.rule, self.eps)
        balancer.set_weights(weights)
        parts = ', '.join(
            f'{v} {w:.3f} (L_T {b[0]:.3f}->{a[0]:.3f}, L_V {b[1]:.3f}->'
            f'{a[1]:.3f})' for v, w, b, a in zip(variants, weights, before,
                                                 after))
        runner.logger.info(f'G-Blending weights before epoch {runner.epoch}: '
                           f'{parts}')
        for v, w in zip(variants, weights):
            runner.message_hub.update_scalar(f'gblend/weight_{v}', float(w))

    # -- the trial -------------------------------------------------------------
    def trial(self, runner: Runner, model, variant: str) -> None:
        """Train ``variant``'s head alone (with the encoders it reads) for
        ``trial_epochs`` epochs of the training loader."""
        balancer = model.balancer
        optim_wrapper = runner.optim_wrapper
        model.train()
        for _ in range(self.trial_epochs):
            for batch in runner.train_dataloader:
                with optim_wrapper.optim_context(model):
                    data = model.data_preprocessor(batch, True)
                    feats = model.extract_feat(data['inputs'])
                    labels = balancer.labels(data['data_samples'])
                    loss = balancer.variant_losses(
                        model, feats, labels)[variant].mean()
                Balancer.update(model, optim_wrapper, loss, sync=True)

    # -- the losses --------------------------------------------------------------
    def splits(self, runner: Runner):
        """The training part and the held-out part, test pipeline."""
        if self._train is None:
            cfg = self._dataloader
            cfg = train_eval_loader_cfg(runner.cfg, key=cfg) \
                if isinstance(cfg, str) else cfg
            self._train = TrainingSetValuation(cfg, owner='GBlendHook')
            self._held_out = TrainingSetValuation(
                held_out_loader_cfg(cfg, 'GBlendHook'),
                owner='GBlendHook (held-out part)')
        return self._train, self._held_out

    def measure(self, runner: Runner, model) -> np.ndarray:
        """(K, 2): every variant's mean loss on the training part (L_T) and
        on the held-out part (L_V), in eval mode."""
        balancer = model.balancer
        out = []
        for split, fraction in zip(self.splits(runner),
                                   (self.train_fraction, 1.0)):
            split.build(runner)
            chosen = split.subset_indices(split.num_samples, fraction,
                                          self.seed + runner.epoch)
            rows = split.run(model, lambda feats, labels, samples: list(zip(
                *[v.cpu().tolist() for v in balancer.variant_losses(
                    model, feats, labels).values()])), chosen)
            if not rows:
                raise RuntimeError(f'{split.owner}: no samples to measure')
            out.append(np.mean([row for _, row in rows], axis=0))
        return np.stack(out, axis=1)

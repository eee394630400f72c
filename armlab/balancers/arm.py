"""ARM: Asymmetric Reinforcing against Multimodal Representation Bias.

Gao et al., AAAI 2025. The paper's body is not public; armlab's definition
follows its abstract and public summaries (configs/arm/README.md gives
the equations and every open choice). Three switchable components
reinforce the weak
modality while the fused loss keeps the dominant one:

* dynamic feature-level fusion: per-modality feature weights from smoothed
  contributions (weak modality amplified, clamped), frozen at evaluation;
* a balanced min-max loss: a smooth maximum over the per-modality losses of
  the masked fused heads;
* dynamic sample-level re-sampling: after a warm-up, samples on which the
  weak modality contributes little are drawn more often, with their dominant
  modality masked.

Contributions are valued without gradient and only on training data: per
batch on the detached training features (pointwise Shapley information), and
per epoch in :class:`ARMHook` with the test-time pipeline (pointwise values
per sample, plus plug-in MI and CMI of the masked heads' predictions).
Prediction never reads labels: the weights used at test time are buffers
fixed by training and saved in the checkpoint.
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.runner import Runner

from armlab.evaluation.valuation import (modality_information,
                                         pointwise_contributions)
from armlab.registry import HOOKS, MODELS
from .base import Balancer, all_reduce_mean
from .sampling_plan_hook import SamplingPlanHook


def contribution_weights(phi: torch.Tensor, gamma: float, max_weight: float,
                         eps: float) -> torch.Tensor:
    """Feature weights alpha_m = clamp((g / Phi_m)^gamma, 1/kappa, kappa).

    g is the geometric mean of the contributions, so the weights multiply to
    one and the weaker modality (smaller Phi) gets the larger weight. With
    M = 2 and gamma = 2 this is the official code's ratio Phi_other / Phi_m.
    Contributions at or below ``eps`` are not informative: weights are 1.
    """
    if bool((phi <= eps).any()):
        return torch.ones_like(phi)
    g = phi.log().mean().exp()
    return (g / phi).pow(gamma).clamp(1.0 / max_weight, max_weight)


def smooth_max(losses: torch.Tensor, temperature: float) -> torch.Tensor:
    """tau * log sum_m exp(L_m / tau): its gradient weights are
    softmax(L / tau), so the worst-served modality dominates."""
    return temperature * torch.logsumexp(losses / temperature, dim=0)


@MODELS.register_module()
class ARMBalancer(Balancer):
    """ARM's per-step components: feature weights and the min-max loss.

    Args:
        feature_weights: ``enable``; ``source`` ('batch': EMA of the batch
            pointwise Shapley values, updated every step; 'epoch': set by
            :class:`ARMHook` from its epoch valuation); ``start_epoch``
            (None, the default: the hook's ``warmup_epochs``, so that the
            warm-up W is stated once); ``momentum`` (beta of the EMA); ``gamma``; ``max_weight``
            (kappa); ``eps``.
        minmax_loss: ``enable``; ``start_epoch``; ``loss_weight`` (lambda);
            ``temperature`` (tau); ``weighting`` ('smoothmax', or
            'contribution': M * sum_m w_m L_m with w = softmax(-Phi/tau_c)).
    """

    lazy_buffers = ('contributions', )
    # Earlier versions kept the epoch in a buffer; it now comes from the
    # message hub like every balancer's.
    retired_buffers = ('epoch', )
    required_hooks = ('ARMHook', )

    def __init__(self,
                 feature_weights: Optional[dict] = None,
                 minmax_loss: Optional[dict] = None):
        super().__init__()
        self.fw = dict(enable=True, source='batch', start_epoch=None,
                       momentum=0.9, gamma=0.5, max_weight=1.5, eps=1e-3)
        self.fw.update(feature_weights or {})
        self.mm = dict(enable=True, start_epoch=0, loss_weight=1.0,
                       temperature=1.0, weighting='smoothmax',
                       contribution_temperature=1.0)
        self.mm.update(minmax_loss or {})
        if self.fw['source'] not in ('batch', 'epoch'):
            raise ValueError("ARMBalancer feature_weights.source must be "
                             f"'batch' or 'epoch', got {self.fw['source']!r}")
        if self.mm['weighting'] not in ('smoothmax', 'contribution'):
            raise ValueError("ARMBalancer minmax_loss.weighting must be "
                             "'smoothmax' or 'contribution', got "
                             f"{self.mm['weighting']!r}")
        # Smoothed per-modality contributions Phi; sized on first use.
        self.register_buffer('contributions', torch.zeros(0))

    def set_warmup(self, warmup_epochs: int) -> None:
        """The warm-up W of :class:`ARMHook` is the feature weights' start
        unless the config gives one (so that W is stated once)."""
        if self.fw['start_epoch'] is None:
            self.fw['start_epoch'] = warmup_epochs

    def _active(self, cfg: dict) -> bool:
        if not cfg['enable']:
            return False
        if cfg['start_epoch'] is None:
            raise RuntimeError(
                "ARMBalancer: feature_weights.start_epoch is None (ARMHook's "
                'warm-up), but no ARMHook is in custom_hooks to give it: add '
                "dict(type='ARMHook') or set feature_weights.start_epoch")
        return self.current_epoch() >= cfg['start_epoch']

    def update_contributions(self, model, phi: torch.Tensor,
                             momentum: Optional[float] = None) -> None:
        """Blend new contributions into Phi and refresh the feature weights."""
        phi = phi.detach().to(model.modality_weights.device).float()
        if self.contributions.numel() != phi.numel():
            self.contributions = phi.clone()
        else:
            beta = self.fw['momentum'] if momentum is None else momentum
            self.contributions.mul_(beta).add_(phi, alpha=1 - beta)
        if self._active(self.fw):
            model.modality_weights.copy_(
                contribution_weights(self.contributions, self.fw['gamma'],
                                     self.fw['max_weight'], self.fw['eps']))

    # -- balancer interface -------------------------------------------------
    def losses(self, model, feats, logits, data_samples, losses):
        labels = torch.cat([ds.gt_label for ds in data_samples])
        if self._active(self.fw) and self.fw['source'] == 'batch':
            detached = {m: f.detach() for m, f in feats.items()}
            phi = pointwise_contributions(model, detached, labels)['shapley']
            phi = torch.stack([phi[m].mean() for m in model.modalities])
            # One batch mean over all ranks, so every rank keeps the same
            # weights (buffers are not broadcast during training).
            self.update_contributions(model, all_reduce_mean(phi))
        if self._active(self.mm):
            losses['loss_minmax'] = self.mm['loss_weight'] * \
                self.minmax_loss(model, feats, labels)
        for i, m in enumerate(model.modalities):
            losses[f'arm_weight_{m}'] = model.modality_weights[i].detach()
        return losses

    def minmax_loss(self, model, feats: Dict[str, torch.Tensor],
                    labels: torch.Tensor) -> torch.Tensor:
        """Balanced min-max loss over the masked fused heads' CE losses."""
        singles = [(m, ) for m in model.modalities]
        masked = model.masked_logits(feats, singles)
        per_modality = torch.stack(
            [F.cross_entropy(masked[s], labels) for s in singles])
        if self.mm['weighting'] == 'smoothmax' or \
                self.contributions.numel() != per_modality.numel():
            return smooth_max(per_modality, self.mm['temperature'])
        w = F.softmax(-self.contributions /
                      self.mm['contribution_temperature'], dim=0)
        return len(singles) * (w.detach() * per_modality).sum()


def repeat_plan(phi: np.ndarray, score: str = 'min', rule: str = 'tercile',
                p_mask: float = 1.0, seed: int = 0):
    """Repeat counts and masks of the extra copies from per-sample values.

    Args:
        phi: (N, M) per-sample contributions; NaN rows were not valued.
        score: 'min' (weak-modality contribution) or 'mean' (2024 code).
        rule: 'tercile' (2 / 1 / 0 extra copies for the lowest / middle /
            highest third of the scores) or 'fixed' (3 / 2 / 1 extra copies
            below 0.5 / below 0.9 / otherwise, the 2024 code's thresholds).
        p_mask: Probability that a sample's extra copies mask its dominant
            modality (argmax_m phi); fixed per sample by ``seed``.

    Returns:
        tuple: repeats (N,) int >= 1 and masks (N, M) bool (True = present).
    """
    n, num_modalities = phi.shape
    valued = ~np.isnan(phi).any(axis=1)
    s = phi.min(axis=1) if score == 'min' else phi.mean(axis=1)
    extra = np.zeros(n, dtype=np.int64)
    if rule == 'tercile':
        if valued.any():
            low, high = np.quantile(s[valued], [1 / 3, 2 / 3])
            extra[valued & (s <= low)] = 2
            extra[valued & (s > low) & (s <= high)] = 1
    elif rule == 'fixed':
        extra[valued] = np.where(s[valued] < 0.5, 3,
                                 np.where(s[valued] < 0.9, 2, 1))
    else:
        raise ValueError(f"repeat rule must be 'tercile' or 'fixed', "
                         f'got {rule!r}')
    masks = np.ones((n, num_modalities), dtype=bool)
    rng = np.random.default_rng(seed)
    do_mask = rng.random(n) < p_mask
    dominant = np.nan_to_num(phi, nan=-np.inf).argmax(axis=1)
    rows = np.flatnonzero(valued & do_mask)
    masks[rows, dominant[rows]] = False
    return extra + 1, masks


@HOOKS.register_module()
class ARMHook(SamplingPlanHook):
    """ARM's epoch-level work: valuation of the training set and re-sampling.

    After every ``interval`` epochs from the end of the warm-up on, it runs
    the model in eval mode over the training split with the test-time
    pipeline (``dataloader``), computes per-sample pointwise contributions
    and the plug-in MI / CMI of the masked heads' predictions, logs them, and
    sets the training sampler's plan for the next epoch (the frame, with
    checkpointing, is :class:`SamplingPlanHook`'s).

    Args:
        dataloader: The valuation dataloader (the train split with the test
            pipeline, no shuffling): its config, or the name of a top-level
            config key that may hold it; by default it is derived from the
            train and validation loaders (``armlab/datasets/train_eval.py``).
        warmup_epochs: W; re-sampling starts at epoch W (the valuation runs
            at the end of epoch W - 1).
        interval: Value every ``interval`` epochs.
        subset: Fraction of the training set valued each time (the others
            keep their last values); 1.0 values all.
        resample: ``enable``; ``score`` ('min' | 'mean'); ``rule``
            ('tercile' | 'fixed'); ``p_mask``.
        feature_weight_momentum: EMA momentum when the balancer takes its
            feature weights from this hook (``source='epoch'``).
        miller_madow: Bias-correct the plug-in entropies.
        seed: Seed of the subset and mask draws (with the epoch).
    """

    checkpoint_key = 'arm_hook'
    no_plan_hint = '; set resample=dict(enable=False) to switch it off'

    @staticmethod
    def required_sampler(hook_cfg: dict):
        """The sampler re-sampling needs (none when it is off)."""
        resample = hook_cfg.get('resample') or {}
        return 'ResamplingSampler' if resample.get('enable', True) else None

    def __init__(self,
                 dataloader='train_eval_dataloader',
                 warmup_epochs: int = 5,
                 interval: int = 1,
                 subset: float = 1.0,
                 resample: Optional[dict] = None,
                 feature_weight_momentum: float = 0.0,
                 miller_madow: bool = False,
                 seed: int = 0):
        if not 0 < subset <= 1:
            raise ValueError(f'ARMHook subset must be in (0, 1], got {subset}')
        super().__init__(dataloader, warmup_epochs, interval)
        self.subset = subset
        self.resample = dict(enable=True, score='min', rule='tercile',
                             p_mask=1.0)
        self.resample.update(resample or {})
        self.feature_weight_momentum = feature_weight_momentum
        self.miller_madow = miller_madow
        self.seed = seed
        self._warned = False

    def makes_plan(self) -> bool:
        return bool(self.resample['enable'])

    def setup_model(self, model) -> None:
        if not isinstance(model.balancer, ARMBalancer):
            raise TypeError('ARMHook needs model.balancer = ARMBalancer, got '
                            f'{type(model.balancer).__name__}')
        model.balancer.set_warmup(self.warmup_epochs)

    def value_and_plan(self, runner: Runner, model, epoch: int) -> None:
        phi, info = self.value_training_set(runner, model, epoch)
        self._log(runner, model, phi, info, epoch)
        if model.balancer.fw['enable'] and \
                model.balancer.fw['source'] == 'epoch':
            model.balancer.update_contributions(
                model, torch.as_tensor(info['phi_plugin']),
                momentum=self.feature_weight_momentum)
        if self.resample['enable']:
            repeats, masks = repeat_plan(
                phi, self.resample['score'], self.resample['rule'],
                self.resample['p_mask'], seed=self.seed + epoch)
            stats = self.apply_plan(
                runner, lambda sampler: sampler.set_plan(repeats, masks))
            runner.logger.info(f'ARM re-sampling plan for epoch {epoch + 2}: '
                               f'{stats}')
            runner.visualizer.add_scalars(
                {f'arm/{k}': v for k, v in stats.items()
                 if isinstance(v, (int, float))}, step=epoch + 1)

    # -- valuation ----------------------------------------------------------
    @torch.no_grad()
    def value_training_set(self, runner: Runner, model, epoch: int):
        """Per-sample contributions (N, M) and dataset-level statistics."""
        self._valuation.build(runner)
        n = self._valuation.num_samples
        chosen = self._valuation.subset_indices(n, self.subset,
                                                self.seed + epoch)

        def row(feats, labels, samples):
            values = pointwise_contributions(model, feats, labels)
            phi, preds = values['shapley'], values['predictions']
            return [([float(phi[m][k]) for m in model.modalities],
                     int(labels[k]),
                     [int(preds[(m, )][k]) for m in model.modalities])
                    for k in range(len(samples))]

        rows = self._valuation.run(model, row, chosen)
        if self._phi is None or len(self._phi) != n:
            self._phi = np.full((n, len(model.modalities)), np.nan)
        index = np.array([r[0] for r in rows])
        self._phi[index] = np.array([r[1][0] for r in rows])
        labels = torch.tensor([r[1][1] for r in rows])
        preds = torch.tensor([r[1][2] for r in rows])
        info = modality_information(
            {m: preds[:, i] for i, m in enumerate(model.modalities)},
            labels, model.modalities, num_classes=model.num_classes,
            miller_madow=self.miller_madow, warn=not self._warned)
        self._warned = True  # the many-cells warning once per run
        info['phi_plugin'] = [float(info['phi'][m]) for m in model.modalities]
        info['valued'] = len(rows)
        return self._phi.copy(), info

    def _log(self, runner, model, phi, info, epoch) -> None:
        scalars = {}
        valued = phi[~np.isnan(phi).any(axis=1)]
        mean_phi = valued.mean(axis=0)
        shares = np.abs(mean_phi) / max(np.abs(mean_phi).sum(), 1e-12)
        for i, m in enumerate(model.modalities):
            scalars[f'arm/shapley_{m}'] = float(mean_phi[i])
            scalars[f'arm/shapley_share_{m}'] = float(shares[i])
            scalars[f'arm/mi_{m}'] = float(info['mi'][m])
            scalars[f'arm/cmi_{m}'] = float(info['cmi'][m])
            scalars[f'arm/phi_plugin_{m}'] = float(info['phi'][m])
            scalars[f'arm/weight_{m}'] = float(model.modality_weights[i])
            if model.balancer.contributions.numel():
                scalars[f'arm/phi_ema_{m}'] = float(
                    model.balancer.contributions[i])
        scalars['arm/mi_joint'] = float(info['joint'])
        runner.visualizer.add_scalars(scalars, step=epoch + 1)
        runner.logger.info(
            f'ARM valuation after epoch {epoch + 1} on {info["valued"]} '
            'training samples: ' + ', '.join(
                f'{k.split("/", 1)[1]}={v:.4f}' for k, v in scalars.items()))

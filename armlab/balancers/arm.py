"""ARM: Asymmetric Reinforcing against Multimodal Representation Bias.

Gao et al., AAAI 2025. The paper's body is not public; armlab's definition
follows its abstract and public summaries (configs/arm/README.md gives the
equations and every open choice). Three switchable components, each driven
by the modalities' contributions, reinforce the weak modality while the
fused loss keeps the dominant one:

* learning-signal weights: alpha_m from the smoothed batch contributions
  (weak modality amplified, clamped) multiplies the fused loss's gradient
  into encoder m; the forward is unchanged, so a linear head cannot absorb
  them (``apply='features'`` keeps the weights on the fused features);
* a balanced min-max loss over the single-modality heads, weighted by
  softmax(-CMI / tau_c) of the epoch valuation and guarded so that the
  dominant modality's MI does not fall while the weak one is reinforced;
* dynamic sample-level re-sampling: after a warm-up, samples on which the
  weak modality contributes little are drawn more often, with their
  dominant modality masked (ranked within each valuation's cohort).

Contributions are valued without gradient and only on training data: per
batch on the detached training features (pointwise Shapley information), and
per epoch in :class:`ARMHook` with the test-time pipeline (pointwise Shapley
values, MI and CMI per sample, plus plug-in MI and CMI of the masked heads'
predictions). Prediction never reads labels or the learning-signal weights.
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import all_gather_object
from mmengine.runner import Runner

from armlab.datasets.train_eval import (held_out_loader_cfg,
                                        train_eval_loader_cfg)
from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.evaluation.valuation import (modality_information,
                                         pointwise_contributions)
from armlab.registry import HOOKS, MODELS
from .base import Balancer, all_reduce_mean, unwrap_model
from .gradient_scaling import scale_gradient
from .sampling_plan_hook import SamplingPlanHook


def contribution_weights(phi: torch.Tensor, gamma: float, max_weight: float,
                         eps: float) -> torch.Tensor:
    """Weights alpha_m = clamp((g / Phi_m)^gamma, 1/kappa, kappa).

    g is the geometric mean of the contributions, so the weights multiply to
    one and the weaker modality (smaller Phi) gets the larger weight. With
    M = 2 and gamma = 2 this is the official code's ratio Phi_other / Phi_m.
    A contribution at or below ``eps`` counts as ``eps``: a modality that
    contributes nothing gets the largest weight, since the most imbalanced
    case is the one to act on. Only when no contribution exceeds ``eps``
    (nothing learned yet) are the weights 1.
    """
    if not bool((phi > eps).any()):
        return torch.ones_like(phi)
    phi = phi.clamp(min=eps)
    g = phi.log().mean().exp()
    return (g / phi).pow(gamma).clamp(1.0 / max_weight, max_weight)


def smooth_max(losses: torch.Tensor, temperature: float) -> torch.Tensor:
    """tau * log sum_m exp(L_m / tau): its gradient weights are
    softmax(L / tau), so the worst-served modality dominates."""
    return temperature * torch.logsumexp(losses / temperature, dim=0)


def cmi_loss_weights(cmi: torch.Tensor, temperature: float) -> torch.Tensor:
    """Min-max loss weights w = softmax(-CMI / tau_c) from the normalised
    joint contributions CMI_m = I(Y; X_m | X_-m) / H(Y): the modality that
    adds least beyond the others gets the largest weight."""
    return F.softmax(-cmi / temperature, dim=0)


def dominant_fell(mi: torch.Tensor, cmi: torch.Tensor,
                  best_mi: torch.Tensor, tolerance: float) -> bool:
    """The asymmetric guard: True when the dominant modality, the one the
    CMI weights favour least (largest CMI), has a marginal contribution
    MI_d = I(Y; X_d) / H(Y) more than ``tolerance`` below its best so far."""
    d = int(cmi.argmax())
    return bool(mi[d] < best_mi[d] - tolerance)


def per_modality_losses(masked: Dict[tuple, torch.Tensor],
                        labels: torch.Tensor, modalities,
                        present: Optional[torch.Tensor]) -> torch.Tensor:
    """(M,) cross-entropies of the single-modality heads, each over the
    samples where its modality is present (a copy that masks m does not
    train m's loss); 0 for a modality absent from the whole batch."""
    out = []
    for i, m in enumerate(modalities):
        ce = F.cross_entropy(masked[(m, )], labels, reduction='none')
        if present is None:
            out.append(ce.mean())
            continue
        keep = present[:, i].to(ce.dtype)
        out.append((ce * keep).sum() / keep.sum().clamp(min=1))
    return torch.stack(out)


@MODELS.register_module()
class ARMBalancer(Balancer):
    """ARM's per-step components: learning-signal weights and the min-max
    loss, both driven by the modalities' contributions.

    Args:
        feature_weights: ``enable``; ``apply`` ('gradient': alpha_m scales
            the fused loss's gradient into modality m's encoder, the forward
            and prediction unchanged; 'features': alpha_m scales the features
            in the fused forward, at test time too, which a linear head
            absorbs); ``source`` ('batch': EMA of the batch pointwise Shapley
            values, updated every step; 'epoch': set by :class:`ARMHook` from
            its plug-in valuation); ``start_epoch`` (None, the default: the
            hook's ``warmup_epochs``, so that the warm-up W is stated once);
            ``momentum`` (beta of the EMA); ``gamma``; ``max_weight``
            (kappa); ``eps``.
        minmax_loss: ``enable``; ``start_epoch``; ``loss_weight`` (lambda);
            ``weighting``: 'cmi' (M * sum_m w_m L_m, w = softmax(-CMI/tau_c)
            from the hook's epoch valuation, uniform until the first one and
            while the guard holds), 'uniform' (the control: M * mean_m L_m),
            'smoothmax' (tau log sum exp(L_m / tau), ``temperature``) or
            'contribution' (w = softmax(-Phi / tau_c), Phi the EMA of the
            batch values); ``contribution_temperature`` (tau_c); ``guard``:
            ``enable`` and ``tolerance`` of the asymmetric guard (uniform
            weights for the next epoch when the dominant modality's, the one
            with the largest CMI, marginal contribution fell more than
            ``tolerance`` below its best).
    """

    lazy_buffers = ('contributions', 'signal_weights', 'loss_weights',
                    'best_mi')
    # Earlier versions kept the epoch in a buffer; it now comes from the
    # message hub like every balancer's.
    retired_buffers = ('epoch', )
    required_hooks = ('ARMHook', )
    _APPLY = ('gradient', 'features')
    _WEIGHTING = ('cmi', 'uniform', 'smoothmax', 'contribution')

    def __init__(self,
                 feature_weights: Optional[dict] = None,
                 minmax_loss: Optional[dict] = None):
        super().__init__()
        self.fw = dict(enable=True, apply='gradient', source='batch',
                       start_epoch=None, momentum=0.9, gamma=0.5,
                       max_weight=1.5, eps=1e-3)
        self.fw.update(feature_weights or {})
        self.mm = dict(enable=True, start_epoch=0, loss_weight=1.0,
                       weighting='cmi', temperature=1.0,
                       contribution_temperature=0.25,
                       guard=dict(enable=True, tolerance=0.02))
        guard = dict(self.mm['guard'], **(minmax_loss or {}).get('guard', {}))
        self.mm.update(minmax_loss or {})
        self.mm['guard'] = guard
        for key, value, allowed in (
                ('feature_weights.source', self.fw['source'],
                 ('batch', 'epoch')),
                ('feature_weights.apply', self.fw['apply'], self._APPLY),
                ('minmax_loss.weighting', self.mm['weighting'],
                 self._WEIGHTING)):
            if value not in allowed:
                raise ValueError(f'ARMBalancer {key} must be one of '
                                 f'{allowed}, got {value!r}')
        # Smoothed per-modality contributions Phi, the weights alpha they
        # give, the min-max loss weights and the guard's best MI; all sized
        # on first use and saved in checkpoints (exact resume).
        self.register_buffer('contributions', torch.zeros(0))
        self.register_buffer('signal_weights', torch.zeros(0))
        self.register_buffer('loss_weights', torch.zeros(0))
        self.register_buffer('best_mi', torch.zeros(0))
        #: Per-step values kept for ARMHook(valuation='steps'); None: off.
        self._recorded: Optional[list] = None

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

    # -- valuation-driven state -----------------------------------------------
    def weights(self, model) -> torch.Tensor:
        """The current alpha (ones before the first update)."""
        if self.signal_weights.numel() != len(model.modalities):
            return torch.ones(len(model.modalities),
                              device=model.modality_weights.device)
        return self.signal_weights

    def update_contributions(self, model, phi: torch.Tensor,
                             momentum: Optional[float] = None) -> None:
        """Blend new contributions into Phi and refresh the weights alpha
        (into the model's feature weights when ``apply='features'``)."""
        phi = phi.detach().to(model.modality_weights.device).float()
        if self.contributions.numel() != phi.numel():
            self.contributions = phi.clone()
        else:
            beta = self.fw['momentum'] if momentum is None else momentum
            self.contributions.mul_(beta).add_(phi, alpha=1 - beta)
        if self._active(self.fw):
            self.signal_weights = contribution_weights(
                self.contributions, self.fw['gamma'], self.fw['max_weight'],
                self.fw['eps'])
            if self.fw['apply'] == 'features':
                model.modality_weights.copy_(self.signal_weights)

    def set_epoch_valuation(self, mi: torch.Tensor,
                            cmi: torch.Tensor) -> dict:
        """Min-max loss weights for the next epoch from the hook's MI and
        CMI (each divided by H(Y)); returns what was decided, for the log.

        'cmi' weighting: w = softmax(-CMI / tau_c), unless the guard finds
        the dominant modality's (largest CMI, so the smallest weight) MI
        fallen below its best, when w is uniform for that epoch (reinforcing
        the weak modality must not cost the dominant one its ability).
        """
        mi = mi.detach().float().to(self.loss_weights.device)
        cmi = cmi.detach().float().to(self.loss_weights.device)
        if self.best_mi.numel() != mi.numel():
            self.best_mi = mi.clone()
        paused = bool(self.mm['guard']['enable']) and dominant_fell(
            mi, cmi, self.best_mi, self.mm['guard']['tolerance'])
        self.best_mi = torch.maximum(self.best_mi, mi)
        if paused:
            self.loss_weights = torch.full_like(cmi, 1.0 / cmi.numel())
        else:
            self.loss_weights = cmi_loss_weights(
                cmi, self.mm['contribution_temperature'])
        return dict(paused=paused, weights=self.loss_weights.tolist())

    # -- balancer interface -------------------------------------------------
    def fusion_features(self, model, feats):
        """With ``apply='gradient'`` the fused loss's gradient into each
        encoder is scaled by alpha_m; the features themselves are not."""
        if not (self._active(self.fw) and self.fw['apply'] == 'gradient'):
            return feats
        alpha = self.weights(model)
        return {m: scale_gradient(feats[m], alpha[i])
                for i, m in enumerate(model.modalities)}

    # -- values gathered from the training steps -------------------------------
    def start_recording(self) -> None:
        """Keep every training step's per-sample values until
        :meth:`stop_recording` (:class:`ARMHook` with ``valuation='steps'``
        calls both around the epoch it values)."""
        self._recorded = []

    def stop_recording(self) -> Optional[list]:
        """This rank's recorded steps since :meth:`start_recording`, as
        ``(sample_idx, values (B, 3, M) [Shapley, MI, CMI], labels,
        single-modality predictions (B, M))`` numpy tuples; None when it was
        not recording."""
        rows, self._recorded = self._recorded, None
        return rows

    def _record(self, model, values: dict, labels: torch.Tensor,
                data_samples, full: Optional[torch.Tensor]) -> None:
        samples = data_samples if full is None else \
            [ds for ds, keep in zip(data_samples, full.tolist()) if keep]
        if not samples:
            return
        mods = model.modalities
        per = torch.stack([torch.stack([values[k][m] for m in mods], 1)
                           for k in ('shapley', 'mi', 'cmi')], 1)
        preds = torch.stack([values['predictions'][(m, )] for m in mods], 1)
        self._recorded.append((
            np.array([int(ds.sample_idx) for ds in samples], np.int64),
            per.float().cpu().numpy(), labels.cpu().numpy(),
            preds.cpu().numpy()))

    def losses(self, model, feats, logits, data_samples, losses):
        labels = self.labels(data_samples)
        present = model._present(data_samples)
        blend = self._active(self.fw) and self.fw['source'] == 'batch'
        if blend or self._recorded is not None:
            self._value_batch(model, feats, labels, present, data_samples,
                              blend=blend)
        if self._active(self.mm):
            losses['loss_minmax'] = self.mm['loss_weight'] * \
                self.minmax_loss(model, feats, labels, present)
        alpha = self.weights(model)
        for i, m in enumerate(model.modalities):
            losses[f'arm_weight_{m}'] = alpha[i].detach()
        return losses

    def _value_batch(self, model, feats, labels, present,
                     data_samples=None, blend: bool = True) -> None:
        """Pointwise values of the batch's samples with every modality
        present (a masked copy says nothing about the modality it hides),
        without gradient; their mean blends into Phi (``blend``) and, while
        recording, each sample's values are kept for the epoch valuation."""
        detached = {m: f.detach() for m, f in feats.items()}
        full = None
        if present is not None:
            full = present.all(dim=1).to(labels.device)
            detached = {m: f[full] for m, f in detached.items()}
            labels = labels[full]
        values = pointwise_contributions(model, detached, labels) \
            if labels.numel() else None
        if values is not None and self._recorded is not None:
            self._record(model, values, labels, data_samples, full)
        if not blend:
            return
        if values is not None:
            phi = torch.stack([values['shapley'][m].mean()
                               for m in model.modalities])
        else:
            phi = torch.full((len(model.modalities), ), float('nan'),
                             device=labels.device)
        # One batch mean over all ranks, so every rank keeps the same
        # weights (buffers are not broadcast during training); a rank
        # without a full sample sends NaN, and NaN means are skipped.
        phi = all_reduce_mean(phi)
        if bool(torch.isfinite(phi).all()):
            self.update_contributions(model, phi)

    def minmax_loss(self, model, feats: Dict[str, torch.Tensor],
                    labels: torch.Tensor,
                    present: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Balanced min-max loss over the single-modality heads' losses."""
        singles = [(m, ) for m in model.modalities]
        masked = model.masked_logits(feats, singles)
        per_modality = per_modality_losses(masked, labels, model.modalities,
                                           present)
        weighting = self.mm['weighting']
        if weighting == 'smoothmax':
            return smooth_max(per_modality, self.mm['temperature'])
        num = len(singles)
        if weighting == 'cmi' and self.loss_weights.numel() == num:
            w = self.loss_weights
        elif weighting == 'contribution' and \
                self.contributions.numel() == num:
            w = F.softmax(-self.contributions /
                          self.mm['contribution_temperature'], dim=0)
        else:  # 'uniform', or before the first valuation
            w = torch.full_like(per_modality, 1.0 / num)
        return num * (w.detach() * per_modality).sum()


def _terciles(s: np.ndarray) -> np.ndarray:
    """2 / 1 / 0 extra draws for the lowest / middle / highest third."""
    low, high = np.quantile(s, [1 / 3, 2 / 3])
    return np.where(s <= low, 2, np.where(s <= high, 1, 0))


def repeat_plan(phi: np.ndarray, score: str = 'min', rule: str = 'tercile',
                p_mask: float = 1.0, seed: int = 0,
                cohort: Optional[np.ndarray] = None):
    """Repeat counts and masks of the extra copies from per-sample values.

    Args:
        phi: (N, M) per-sample contributions; NaN rows were not valued.
        score: 'min' (the weak modality's contribution), 'mean' (2024 code)
            or 'shuffled' (the control: the 'min' plan's rows dealt to the
            valued samples in a random order, so the counts, the masking
            rate and the masked modalities are those of a real plan, but no
            sample gets its own).
        rule: 'tercile' (2 / 1 / 0 extra copies for the lowest / middle /
            highest third of the scores, ranked within each ``cohort``) or
            'fixed' (3 / 2 / 1 extra copies below 0.5 / below 0.9 /
            otherwise, the 2024 code's thresholds).
        p_mask: Probability that a sample's extra copies mask its dominant
            modality (argmax_m phi); fixed per sample by ``seed``.
        seed: Seed of the mask draws and of the 'shuffled' deal.
        cohort: Optional (N,) epoch at which each row was valued: values of
            different epochs come from different models, so terciles are
            taken within each cohort.

    A sample not valued yet gets the middle count (one extra copy: the mean
    of the tercile rule), masking the modality that dominates on average,
    so that it is drawn as often as a valued sample is on average.

    Returns:
        tuple: repeats (N,) int >= 1 and masks (N, M) bool (True = present).
    """
    if score not in ('min', 'mean', 'shuffled'):
        raise ValueError("repeat score must be 'min', 'mean' or 'shuffled', "
                         f'got {score!r}')
    phi = np.asarray(phi, dtype=float)
    n, num_modalities = phi.shape
    rng = np.random.default_rng(seed)
    valued = ~np.isnan(phi).any(axis=1)
    if not valued.any():  # nothing to rank: a plain epoch
        return np.ones(n, dtype=np.int64), np.ones((n, num_modalities), bool)
    if score == 'shuffled':
        rows = np.flatnonzero(valued)
        phi = phi.copy()
        phi[rows] = phi[rng.permutation(rows)]
    s = phi.mean(axis=1) if score == 'mean' else phi.min(axis=1)
    cohort = np.zeros(n, dtype=np.int64) if cohort is None else \
        np.asarray(cohort, dtype=np.int64)
    extra = np.zeros(n, dtype=np.int64)
    if rule == 'tercile':
        for c in np.unique(cohort[valued]):
            rows = np.flatnonzero(valued & (cohort == c))
            extra[rows] = _terciles(s[rows])
        extra[~valued] = 1
    elif rule == 'fixed':
        extra[valued] = np.where(s[valued] < 0.5, 3,
                                 np.where(s[valued] < 0.9, 2, 1))
        extra[~valued] = 2
    else:
        raise ValueError(f"repeat rule must be 'tercile' or 'fixed', "
                         f'got {rule!r}')
    dominant = np.nan_to_num(phi, nan=-np.inf).argmax(axis=1)
    dominant[~valued] = int(np.argmax(phi[valued].mean(axis=0)))
    masks = np.ones((n, num_modalities), dtype=bool)
    rows = np.flatnonzero(rng.random(n) < p_mask)
    masks[rows, dominant[rows]] = False
    return extra + 1, masks


def _last_per_sample(steps: list, num_modalities: int):
    """Recorded training steps -> one row per sample, its last draw: the
    indices, (n, 3, M) values, labels and (n, M) predictions."""
    if not steps:
        return (np.zeros(0, np.int64), np.zeros((0, 3, num_modalities)),
                np.zeros(0, np.int64), np.zeros((0, num_modalities), np.int64))
    index, values, labels, preds = (np.concatenate(part)
                                    for part in zip(*steps))
    # np.unique keeps the first occurrence: reverse to keep the last.
    _, first = np.unique(index[::-1], return_index=True)
    last = len(index) - 1 - first
    return index[last], values[last], labels[last], preds[last]


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
        subset: Fraction of the training set valued each time by the pass
            (the others keep their last values); 1.0 values all.
        valuation: 'pass' (after the epoch, the eval-mode pass over
            ``subset`` of the training split described above) or 'steps'
            (no pass: the values the balancer computes in the epoch's
            training steps, each sample as last drawn with every modality
            present, before the gradient step on it; free, every drawn
            sample valued, in train mode with the train pipeline).
        resample: ``enable``; ``score`` ('min' | 'mean'); ``rule``
            ('tercile' | 'fixed'); ``p_mask``.
        feature_weight_momentum: EMA momentum when the balancer takes its
            feature weights from this hook (``source='epoch'``).
        miller_madow: Bias-correct the plug-in entropies.
        value_on: Where the dataset-level MI and CMI (the min-max loss
            weights, the guard, the plug-in values) are measured: 'train'
            (the valued training samples) or 'held_out' (a pass over the
            held-out part of the training split, which the encoders never
            fit: the train dataset needs ``holdout=dict(fraction=...,
            part='train')``). Re-sampling always ranks training samples.
        seed: Seed of the subset and mask draws (with the epoch).
    """

    checkpoint_key = 'arm_hook'
    _VALUATIONS = ('pass', 'steps')
    _VALUE_ON = ('train', 'held_out')
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
                 valuation: str = 'pass',
                 resample: Optional[dict] = None,
                 feature_weight_momentum: float = 0.0,
                 miller_madow: bool = False,
                 value_on: str = 'train',
                 seed: int = 0):
        if value_on not in self._VALUE_ON:
            raise ValueError(f'ARMHook value_on must be one of '
                             f'{self._VALUE_ON}, got {value_on!r}')
        if not 0 < subset <= 1:
            raise ValueError(f'ARMHook subset must be in (0, 1], got {subset}')
        if valuation not in self._VALUATIONS:
            raise ValueError(f'ARMHook valuation must be one of '
                             f'{self._VALUATIONS}, got {valuation!r}')
        super().__init__(dataloader, warmup_epochs, interval)
        self.subset = subset
        self.valuation = valuation
        self.resample = dict(enable=True, score='min', rule='tercile',
                             p_mask=1.0)
        self.resample.update(resample or {})
        self.feature_weight_momentum = feature_weight_momentum
        self.miller_madow = miller_madow
        self.value_on = value_on
        self._held_out: Optional[TrainingSetValuation] = None
        self.seed = seed
        self._warned = False
        #: Epoch at which each training sample was last valued (-1: never).
        self._valued_at: Optional[np.ndarray] = None

    def makes_plan(self) -> bool:
        return bool(self.resample['enable'])

    def setup_model(self, model) -> None:
        if not isinstance(model.balancer, ARMBalancer):
            raise TypeError('ARMHook needs model.balancer = ARMBalancer, got '
                            f'{type(model.balancer).__name__}')
        model.balancer.set_warmup(self.warmup_epochs)

    def before_train_epoch(self, runner: Runner) -> None:
        if self.valuation == 'steps' and \
                self.is_valuation_epoch(runner.epoch):
            unwrap_model(runner.model).balancer.start_recording()

    def value_and_plan(self, runner: Runner, model, epoch: int) -> None:
        phi, info = self.value_training_set(runner, model, epoch)
        balancer = model.balancer
        if balancer.mm['enable'] and balancer.mm['weighting'] == 'cmi':
            info['minmax'] = balancer.set_epoch_valuation(
                torch.as_tensor(info['mi_pointwise']),
                torch.as_tensor(info['cmi_pointwise']))
        if balancer.fw['enable'] and balancer.fw['source'] == 'epoch':
            balancer.update_contributions(
                model, torch.as_tensor(info['phi_plugin']),
                momentum=self.feature_weight_momentum)
        self._log(runner, model, phi, info, epoch)
        if self.resample['enable']:
            repeats, masks = repeat_plan(
                phi, self.resample['score'], self.resample['rule'],
                self.resample['p_mask'], seed=self.seed + epoch,
                cohort=self._valued_at)
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
        """Per-sample contributions (N, M) and dataset-level statistics:
        the plug-in MI / CMI of the masked heads' predictions and the means
        of the pointwise MI / CMI over the samples valued now, each divided
        by H(Y) (``mi_pointwise``, ``cmi_pointwise``)."""
        recorded = model.balancer.stop_recording() \
            if self.valuation == 'steps' else None
        if recorded is not None:
            n = len(runner.train_dataloader.dataset)
            index, values, labels, preds = _last_per_sample(
                [r for part in all_gather_object(recorded) for r in part],
                len(model.modalities))
        else:  # 'pass' (or 'steps' without a recorded epoch: a resume)
            n, index, values, labels, preds = self._valuation_pass(
                runner, model, epoch)
        if self._phi is None or len(self._phi) != n:
            self._phi = np.full((n, len(model.modalities)), np.nan)
        if self._valued_at is None or len(self._valued_at) != n:
            self._valued_at = np.full(n, -1, dtype=np.int64)
        self._phi[index] = values[:, 0]
        self._valued_at[index] = epoch
        source = '' if recorded is None else " (the epoch's training steps)"
        if self.value_on == 'held_out':
            _, index, values, labels, preds = self._valuation_pass(
                runner, model, epoch, self._held_out_split(runner),
                fraction=1.0)
            source = ' (held-out part of the training split)'
        labels, preds = torch.as_tensor(labels), torch.as_tensor(preds)
        info = modality_information(
            {m: preds[:, i] for i, m in enumerate(model.modalities)},
            labels, model.modalities, num_classes=model.num_classes,
            miller_madow=self.miller_madow, warn=not self._warned)
        self._warned = True  # the many-cells warning once per run
        scale = 1.0 / info['entropy_y'] if info['entropy_y'] > 0 else 0.0
        info['mi_pointwise'] = (values[:, 1].mean(axis=0) * scale).tolist()
        info['cmi_pointwise'] = (values[:, 2].mean(axis=0) * scale).tolist()
        info['phi_plugin'] = [float(info['phi'][m]) for m in model.modalities]
        info['valued'] = len(index)
        info['source'] = source
        return self._phi.copy(), info

    def _held_out_split(self, runner: Runner) -> TrainingSetValuation:
        """The held-out part of the training split, test pipeline: the
        valuation loader with its dataset's ``holdout.part`` switched."""
        if self._held_out is None:
            cfg = self._valuation.dataloader_cfg
            cfg = train_eval_loader_cfg(runner.cfg, key=cfg) \
                if isinstance(cfg, str) else cfg
            cfg = held_out_loader_cfg(cfg, "ARMHook value_on='held_out'")
            self._held_out = TrainingSetValuation(
                cfg, owner='ARMHook (held-out part)')
        return self._held_out

    def _valuation_pass(self, runner: Runner, model, epoch: int,
                        split: Optional[TrainingSetValuation] = None,
                        fraction: Optional[float] = None):
        """The eval-mode pass over ``fraction`` (default ``subset``) of
        ``split`` (default the training split): N and the valued samples'
        indices, (n, 3, M) values, labels and (n, M) single-modality
        predictions."""
        split = split or self._valuation
        split.build(runner)
        n = split.num_samples
        chosen = split.subset_indices(
            n, self.subset if fraction is None else fraction,
            self.seed + epoch)

        def row(feats, labels, samples):
            values = pointwise_contributions(model, feats, labels)
            preds = values['predictions']
            per = [values[k] for k in ('shapley', 'mi', 'cmi')]
            return [([[float(v[m][k]) for m in model.modalities]
                      for v in per],
                     int(labels[k]),
                     [int(preds[(m, )][k]) for m in model.modalities])
                    for k in range(len(samples))]

        rows = split.run(model, row, chosen)
        return (n, np.array([r[0] for r in rows]),
                np.array([r[1][0] for r in rows]),
                np.array([r[1][1] for r in rows]),
                np.array([r[1][2] for r in rows]))

    def _log(self, runner, model, phi, info, epoch) -> None:
        scalars = {}
        valued = phi[~np.isnan(phi).any(axis=1)]
        mean_phi = valued.mean(axis=0)
        shares = np.abs(mean_phi) / max(np.abs(mean_phi).sum(), 1e-12)
        balancer = model.balancer
        alpha = balancer.weights(model)
        for i, m in enumerate(model.modalities):
            scalars[f'arm/shapley_{m}'] = float(mean_phi[i])
            scalars[f'arm/shapley_share_{m}'] = float(shares[i])
            scalars[f'arm/mi_{m}'] = float(info['mi'][m])
            scalars[f'arm/cmi_{m}'] = float(info['cmi'][m])
            scalars[f'arm/pointwise_mi_{m}'] = float(info['mi_pointwise'][i])
            scalars[f'arm/pointwise_cmi_{m}'] = float(
                info['cmi_pointwise'][i])
            scalars[f'arm/phi_plugin_{m}'] = float(info['phi'][m])
            scalars[f'arm/weight_{m}'] = float(alpha[i])
            if balancer.contributions.numel():
                scalars[f'arm/phi_ema_{m}'] = float(
                    balancer.contributions[i])
            if 'minmax' in info:
                scalars[f'arm/loss_weight_{m}'] = float(
                    info['minmax']['weights'][i])
        if 'minmax' in info:
            scalars['arm/guard_paused'] = float(info['minmax']['paused'])
        scalars['arm/mi_joint'] = float(info['joint'])
        runner.visualizer.add_scalars(scalars, step=epoch + 1)
        runner.logger.info(
            f'ARM valuation after epoch {epoch + 1} on {info["valued"]} '
            f'training samples{info["source"]}: ' + ', '.join(
                f'{k.split("/", 1)[1]}={v:.4f}' for k, v in scalars.items()))

    # -- checkpointing --------------------------------------------------------
    def extra_state(self) -> dict:
        return dict(valued_at=None if self._valued_at is None
                    else self._valued_at.tolist())

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        super().after_load_checkpoint(runner, checkpoint)
        state = checkpoint.get(self.checkpoint_key) or {}
        if state.get('valued_at') is not None:
            self._valued_at = np.array(state['valued_at'], dtype=np.int64)
        elif self._phi is not None:  # a checkpoint of an earlier version
            self._valued_at = np.where(np.isnan(self._phi).any(axis=1), -1,
                                       0).astype(np.int64)

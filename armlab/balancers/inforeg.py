"""InfoReg: adaptive unimodal regulation inside the prime learning window.

Huang, Wei, Yang, Hu, "Adaptive Unimodal Regulation for Balanced Multimodal
Information Acquisition", CVPR 2025 (configs/inforeg/README.md). A network
acquires most of its information early (the "prime learning window", where
the Fisher trace still grows fast); there the modality that already fits the
data crowds out the other. InfoReg slows every modality that is ahead, and
only inside the window, with a proximal pull towards its parameters at the
start of the epoch:

* scores s_m = mean_i softmax(z_m)_i[y_i] on the decomposed logits (the
  paper's Eq. 8 reads as a loss, yet Eqs. 9-10 treat a larger score as
  stronger; the code's p(y) form is used), gap Delta_m = mean over the
  modalities m' with s_m' < s_m of (s_m - s_m') (0 for the weakest);
* window of modality m at epoch t: (T_m^{t-1} - T_m^{t-2}) / T_m^{t-1} > K,
  T_m the epoch's mean squared gradient norm of m's encoder (the Fisher
  trace estimate); epochs 0 and 1 are plain (Eq. 11, Algorithm 1);
* penalty P_m = alpha_m / 2 ||theta_m - theta_m^{epoch start}||^2 with
  alpha_m = exp(beta tanh(Delta_m)) for each m with Delta_m > 0 whose window
  is open (Eqs. 12 and 16), added to the loss, so its gradient
  alpha_m (theta_m - theta_m^{epoch start}) joins the encoder's.

``unimodal_loss=True`` adds the per-modality cross-entropies of the same
logits (the paper's InfoReg*, and what the released code trains).
"""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.registry import HOOKS, MODELS
from .base import Balancer, all_reduce_mean, unwrap_model
from .ogm_ge import label_probability_sums, per_modality_logits


def score_gaps(scores: torch.Tensor) -> torch.Tensor:
    """(M,) Delta_m = mean over {m' : s_m' < s_m} of (s_m - s_m'); 0 for a
    modality no other is below (Eqs. 9-10)."""
    diff = scores.view(-1, 1) - scores.view(1, -1)  # [m, m'] = s_m - s_m'
    below = diff > 0
    count = below.sum(1)
    total = torch.where(below, diff, torch.zeros_like(diff)).sum(1)
    return torch.where(count > 0, total / count.clamp_min(1),
                       torch.zeros_like(total))


def window_open(history: Sequence[Sequence[float]], num: int,
                threshold: float, rule: str = 'paper',
                lag: int = 10) -> List[bool]:
    """Whether each modality's prime learning window is open for the epoch
    after ``history`` (one row of the ``num`` modalities' traces per
    finished epoch).

    ``'paper'`` (Eq. 11): open when (T^{t-1} - T^{t-2}) / T^{t-1} >
    ``threshold``, closed in epochs 0 and 1. ``'code'`` (the released
    main.py as read): one flag for every modality from the first modality's
    trace, k = (T^{t-1} - T^{t-1-lag}) / sum of the last ``lag`` traces with
    the history pre-filled by ``lag`` zeros, k = 1 in epoch 0.
    """
    if rule not in InfoRegBalancer.WINDOWS:
        raise ValueError(f'InfoReg window rule must be one of '
                         f'{InfoRegBalancer.WINDOWS}, got {rule!r}')
    if rule == 'code':
        if not history:
            return [True] * num
        trace = [0.0] * lag + [row[0] for row in history]
        recent = sum(trace[-lag:])
        k = (trace[-1] - trace[-1 - lag]) / recent if recent > 0 else 0.0
        return [k > threshold] * num
    if len(history) < 2:
        return [False] * num
    last, before = history[-1], history[-2]
    return [last[m] > 0 and (last[m] - before[m]) / last[m] > threshold
            for m in range(num)]


@MODELS.register_module()
class InfoRegBalancer(Balancer):
    """Proximal regulation of the modalities that are ahead, in the window.

    Args:
        beta: beta of alpha = exp(beta tanh(Delta)) (the paper: 0.9).
        threshold: K of the window test (the paper: 0.04; the code's rule
            0.05).
        scale: Factor c_m in alpha_m = c_m exp(beta tanh(Delta_m)): 1 (the
            paper), or a dict per modality (the released code: audio 0.95,
            visual 0.1, with beta 1).
        window: ``'paper'`` (each modality's own trace, Eq. 11) or
            ``'code'`` (the first modality's trace with a 10-epoch lag).
        unimodal_loss: Add sum_m CE(z_m, y) (InfoReg*; the released code).
        score: ``'decompose'`` (decomposed concat logits, as the code) or
            ``'mask'`` (the fused head with one modality present).
        score_reduction: ``'mean'`` over the batch (the gap and alpha do not
            depend on the batch size) or ``'sum'`` (the code's).
    """

    WINDOWS = ('paper', 'code')
    REDUCTIONS = ('mean', 'sum')
    required_hooks = ('InfoRegHook', )
    lazy_buffers = ('trace_history', 'trace_sum')

    def __init__(self,
                 beta: float = 0.9,
                 threshold: float = 0.04,
                 scale: Union[float, Dict[str, float]] = 1.0,
                 window: str = 'paper',
                 unimodal_loss: bool = False,
                 score: str = 'decompose',
                 score_reduction: str = 'mean'):
        super().__init__()
        if window not in self.WINDOWS:
            raise ValueError(f'InfoRegBalancer window must be one of '
                             f'{self.WINDOWS}, got {window!r}')
        if score_reduction not in self.REDUCTIONS:
            raise ValueError(f'InfoRegBalancer score_reduction must be one '
                             f'of {self.REDUCTIONS}, got {score_reduction!r}')
        if score not in ('decompose', 'mask'):
            raise ValueError("InfoRegBalancer score must be 'decompose' or "
                             f"'mask', got {score!r}")
        self.beta = beta
        self.threshold = threshold
        self.scale = scale
        self.window = window
        self.unimodal_loss = unimodal_loss
        self.score = score
        self.score_reduction = score_reduction
        # Per finished epoch, the mean squared encoder gradient norm of each
        # modality; this epoch's running sum and step count. In the
        # checkpoint, so that a resumed run opens the same windows.
        self.register_buffer('trace_history', torch.zeros(0))
        self.register_buffer('trace_sum', torch.zeros(0))
        self.register_buffer('trace_steps', torch.zeros((), dtype=torch.long))
        #: Encoder parameters at the start of this epoch (set by the hook;
        #: a resumed epoch-based run starts an epoch, so it takes them
        #: again from the loaded weights).
        self._snapshot: Optional[Dict[str, List[torch.Tensor]]] = None
        self._open: Dict[str, bool] = {}
        self._optim_wrapper = None

    # -- epoch-level state (called by InfoRegHook) ----------------------------
    def scale_of(self, modality: str) -> float:
        if isinstance(self.scale, dict):
            if modality not in self.scale:
                raise KeyError(f'InfoRegBalancer scale has no entry for '
                               f'{modality!r} (got {sorted(self.scale)})')
            return float(self.scale[modality])
        return float(self.scale)

    def start_epoch(self, model) -> Dict[str, bool]:
        """Snapshot every encoder's parameters and open or close each
        modality's window from the trace history."""
        self._snapshot = {
            m: [p.detach().clone() for p in model.encoders[m].parameters()]
            for m in model.modalities}
        history = self.trace_history.tolist() if self.trace_history.numel() \
            else []
        flags = window_open(history, len(model.modalities), self.threshold,
                            self.window)
        self._open = dict(zip(model.modalities, flags))
        return dict(self._open)

    def end_epoch(self, model) -> List[float]:
        """Append this epoch's mean trace (averaged over ranks) to the
        history and reset the running sum."""
        num = len(model.modalities)
        if self.trace_sum.numel() != num or int(self.trace_steps) == 0:
            return []
        mean = self.trace_sum / int(self.trace_steps)
        if get_world_size() > 1:
            mean = mean.clone()
            all_reduce(mean, op='mean')
        row = mean.view(1, num).to(self.trace_sum.device)
        self.trace_history = row if self.trace_history.numel() == 0 else \
            torch.cat([self.trace_history.view(-1, num), row])
        self.trace_sum = torch.zeros_like(self.trace_sum)
        self.trace_steps.zero_()
        return row.view(-1).tolist()

    # -- balancer interface ---------------------------------------------------
    def train_step(self, model, data, optim_wrapper, forward=None):
        self._optim_wrapper = optim_wrapper  # its loss scale, for the trace
        return super().train_step(model, data, optim_wrapper, forward)

    def losses(self, model, feats, logits, data_samples, losses):
        if not model.training:
            return losses
        labels = self.labels(data_samples)
        owner = type(self).__name__
        if self.unimodal_loss:  # InfoReg*: the logits train
            uni = per_modality_logits(model, feats, self.score, owner)
        else:
            with torch.no_grad():
                uni = per_modality_logits(
                    model, {m: f.detach() for m, f in feats.items()},
                    self.score, owner)
        scores = label_probability_sums(uni, labels, model.modalities)
        if self.score_reduction == 'mean':
            scores = scores / len(labels)
        gaps = score_gaps(all_reduce_mean(scores))
        if self.unimodal_loss:
            losses['loss_unimodal'] = sum(
                F.cross_entropy(uni[m], labels) for m in model.modalities)
        for i, m in enumerate(model.modalities):
            losses[f'inforeg_gap_{m}'] = gaps[i]
            if not (self._open.get(m) and float(gaps[i]) > 0
                    and self._snapshot is not None):
                continue
            alpha = self.scale_of(m) * math.exp(
                self.beta * math.tanh(float(gaps[i])))
            drift = sum((p - p0).pow(2).sum() for p, p0 in zip(
                model.encoders[m].parameters(), self._snapshot[m]))
            losses[f'loss_inforeg_{m}'] = 0.5 * alpha * drift
            losses[f'inforeg_alpha_{m}'] = feats[m].new_tensor(alpha)
        return losses

    def after_backward(self, model) -> None:
        """Add this step's squared encoder gradient norms to the epoch's
        trace (the loss scale of mixed precision divided out)."""
        if not model.training:
            return
        scale = 1.0
        scaler = getattr(self._optim_wrapper, 'loss_scaler', None)
        if scaler is not None:
            scale = float(scaler.get_scale())
        traces = []
        for m in model.modalities:
            grads = [p.grad for p in model.encoders[m].parameters()
                     if p.grad is not None]
            traces.append(sum(float(g.detach().float().pow(2).sum())
                              for g in grads) / scale ** 2)
        values = torch.tensor(traces, device=self.trace_steps.device)
        if self.trace_sum.numel() != len(traces):
            self.trace_sum = torch.zeros_like(values)
        self.trace_sum += values
        self.trace_steps += 1


@HOOKS.register_module()
class InfoRegHook(Hook):
    """Starts and ends InfoReg's epochs: the parameter snapshot and the
    window flags before each training epoch, the trace history after it
    (before the checkpoint of that epoch is saved)."""

    priority = 'NORMAL'

    @staticmethod
    def _balancer(runner: Runner):
        model = unwrap_model(runner.model)
        if not isinstance(model.balancer, InfoRegBalancer):
            raise TypeError('InfoRegHook needs model.balancer = '
                            'InfoRegBalancer, got '
                            f'{type(model.balancer).__name__}')
        return model, model.balancer

    def before_train_epoch(self, runner: Runner) -> None:
        model, balancer = self._balancer(runner)
        flags = balancer.start_epoch(model)
        runner.logger.info(
            f'InfoReg epoch {runner.epoch}: window ' + ', '.join(
                f'{m} {"open" if v else "closed"}' for m, v in flags.items()))

    def after_train_epoch(self, runner: Runner) -> None:
        model, balancer = self._balancer(runner)
        row = balancer.end_epoch(model)
        if row:
            runner.logger.info(
                f'InfoReg epoch {runner.epoch}: Fisher trace ' + ', '.join(
                    f'{m} {v:.4g}' for m, v in zip(model.modalities, row)))

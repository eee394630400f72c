"""Greedy: balanced multimodal learning by re-balancing steps.

Wu, Jastrzebski, Cho, Geras, "Characterizing and Overcoming the Greedy Nature
of Learning in Multi-modal Deep Neural Networks", ICML 2022
(configs/greedy/README.md).

A multimodal network learns greedily from the modality it learns fastest.
Greedy measures each branch's *conditional learning speed* in an MMTM
mid-fusion model (:class:`MMTMClassifier`): how fast the cross-modal bypass
into branch m learns relative to branch m's own encoder,

    mu(P) = ||grad P||^2 / ||P||^2        (norms over a parameter group P)
    BDR_m = log10( sum_t mu(bypass_m) / sum_t mu(main_m) )

summed over the regular training steps so far, and d_BDR = BDR_0 - BDR_1.
From ``start_epoch`` on, whenever |d_BDR| > epsilon, it runs ``window``
re-balancing steps for the *caring* branch: index 0 when d_BDR > 0, index 1
when d_BDR < 0. The branch whose bypass learns relatively faster leans on the
other modality; freezing its excitation to a constant makes it learn from its
own input.
"""
from typing import Iterable

import torch
from torch import nn

from armlab.models.classifiers.mmtm import MMTMClassifier
from armlab.registry import MODELS
from .base import Balancer


def learning_speed(params: Iterable[nn.Parameter]) -> torch.Tensor:
    """mu(P) = ||grad P||^2 / ||P||^2 over the group P (missing gradients
    count as zero), as a float64 scalar."""
    params = list(params)
    weight_sq = sum(p.detach().double().pow(2).sum() for p in params)
    grad_sq = sum(p.grad.detach().double().pow(2).sum() for p in params
                  if p.grad is not None)
    grad_sq = torch.as_tensor(grad_sq, dtype=torch.float64,
                              device=weight_sq.device)
    return grad_sq / weight_sq.clamp_min(1e-30)


@MODELS.register_module()
class GreedyBalancer(Balancer):
    """Greedy's re-balancing schedule over an :class:`MMTMClassifier`.

    Args:
        mode: 'guided' (the paper's algorithm, driven by d_BDR) or 'random'
            (each step after ``start_epoch`` is drawn uniformly from a
            regular step and a re-balancing step for either modality).
        epsilon: Threshold on |d_BDR| that starts a curation window.
        window: Q, the number of re-balancing steps in a curation window.
        start_epoch: First (0-based) epoch that may re-balance; before it
            d_BDR is only accumulated and logged.
    """

    def __init__(self,
                 mode: str = 'guided',
                 epsilon: float = 0.01,
                 window: int = 5,
                 start_epoch: int = 2):
        super().__init__()
        if mode not in ('guided', 'random'):
            raise ValueError(f"GreedyBalancer mode must be 'guided' or "
                             f"'random', got {mode!r}")
        if window < 1:
            raise ValueError(f'GreedyBalancer window must be >= 1, got '
                             f'{window}')
        self.mode = mode
        self.epsilon = epsilon
        self.window = window
        self.start_epoch = start_epoch
        # Buffers, so that a resumed run continues the same schedule.
        # Summed learning speeds of each modality's bypass and main groups.
        f64, long = torch.float64, torch.long
        self.register_buffer('bypass_speed', torch.zeros(2, dtype=f64))
        self.register_buffer('main_speed', torch.zeros(2, dtype=f64))
        self.register_buffer('dbdr', torch.zeros((), dtype=f64))
        # The current curation window: caring index (-1: none), steps left.
        self.register_buffer('caring', torch.full((), -1, dtype=long))
        self.register_buffer('curation_left', torch.zeros((), dtype=long))
        #: Caring index of the step being run (-1: a regular step).
        self.step_caring = -1

    @staticmethod
    def check_model(model: nn.Module) -> MMTMClassifier:
        if not isinstance(model, MMTMClassifier):
            raise TypeError(
                'GreedyBalancer re-balances the cross-modal flow of an MMTM '
                f'mid-fusion model and needs MMTMClassifier, got '
                f'{type(model).__name__}; set model.type="MMTMClassifier".')
        if not model.mmtm:
            raise ValueError('GreedyBalancer needs at least one MMTM block: '
                             'the model has mmtm_stages=()')
        return model

    # -- conditional learning speed -------------------------------------------
    def accumulate_bdr(self, model: MMTMClassifier) -> float:
        """Add this step's learning speeds; return the updated d_BDR.

        A step with non-finite gradients (an AMP overflow, skipped by the
        optimiser) is left out, or it would poison the sums for good.
        """
        device = self.bypass_speed.device
        bypass = torch.stack([learning_speed(model.bypass_parameters(m))
                              for m in model.modalities]).to(device)
        main = torch.stack([learning_speed(model.main_parameters(m))
                            for m in model.modalities]).to(device)
        if bool(torch.isfinite(bypass).all() and torch.isfinite(main).all()):
            self.bypass_speed += bypass
            self.main_speed += main
        bdr = torch.log10(self.bypass_speed.clamp_min(1e-30) /
                          self.main_speed.clamp_min(1e-30))
        self.dbdr.fill_(float(bdr[0] - bdr[1]))
        return float(self.dbdr)

    def unlocked(self) -> bool:
        return self.current_epoch() >= self.start_epoch

    # -- schedule -------------------------------------------------------------
    def caring_for_step(self) -> int:
        """The caring modality index of the next step, -1 for regular."""
        if self.mode == 'random':
            if not self.unlocked():
                return -1
            return int(torch.randint(3, ())) - 1  # regular, care 0, care 1
        return int(self.caring) if int(self.curation_left) > 0 else -1

    def after_backward(self, model: nn.Module) -> None:
        model = self.check_model(model)
        if self.step_caring >= 0:
            # A re-balancing step: its frozen excitation has no gradient, so
            # it says nothing about the speeds; just count the window down.
            if self.mode == 'guided':
                self.curation_left -= 1
                if int(self.curation_left) == 0:
                    self.caring.fill_(-1)
            return
        dbdr = self.accumulate_bdr(model)
        if self.mode == 'guided' and self.unlocked() and \
                abs(dbdr) > self.epsilon:
            # d_BDR > 0: branch 0's bypass learns relatively faster, branch 0
            # leans on modality 1, so branch 0 is the one cared for.
            self.caring.fill_(0 if dbdr > 0 else 1)
            self.curation_left.fill_(self.window)

    def train_step(self, model, data, optim_wrapper, forward=None):
        model = self.check_model(model)
        self.step_caring = self.caring_for_step()
        model.set_caring(None if self.step_caring < 0 else
                         model.modalities[self.step_caring])
        try:
            log_vars = super().train_step(model, data, optim_wrapper,
                                          forward)
        finally:
            model.set_caring(None)
        device = self.dbdr.device
        log_vars['greedy_dbdr'] = self.dbdr.detach().float()
        log_vars['greedy_caring'] = torch.tensor(float(self.step_caring),
                                                 device=device)
        log_vars['greedy_rebalancing'] = torch.tensor(
            float(self.step_caring >= 0), device=device)
        return log_vars

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, epsilon={self.epsilon}, '
                f'window={self.window}, start_epoch={self.start_epoch}')


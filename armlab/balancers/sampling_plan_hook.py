"""The base of the hooks that value the training set and re-sample it.

ARM's re-sampling (:class:`~armlab.balancers.arm.ARMHook`) and the modality
valuation (:class:`~armlab.balancers.modality_valuation.ModalityValuationHook`)
do the same thing around different valuations: after the warm-up, every
``interval`` epochs, they run the model over the training split read with the
test pipeline, turn the values into a plan for the next epoch and hand it to
the training sampler (``ResamplingSampler``); the plan and the values go into
checkpoints, so a resumed run starts from the plan it had. This class is that
frame, written once; a subclass says only how a plan is made
(:meth:`value_and_plan`) and what its model must be or be told
(:meth:`setup_model`).
"""
from typing import Callable, Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.evaluation.training_valuation import TrainingSetValuation
from .base import unwrap_model


class SamplingPlanHook(Hook):
    """Value the training set after epoch ``W - 1`` and every ``interval``
    epochs after it; give the training sampler the plan for the next epoch.

    Args:
        dataloader: The valuation dataloader config, or the name of the
            top-level config key that may hold it (by default derived from
            the train and validation loaders, ``armlab/datasets/
            train_eval.py``).
        warmup_epochs: W; the first plan is used from epoch W (0-based).
        interval: Value every ``interval`` epochs.
    """

    priority = 'NORMAL'
    #: Key of this hook's state (plan, values) in a checkpoint.
    checkpoint_key: str = 'sampling_plan_hook'
    #: The sampler method a plan needs (``ResamplingSampler``'s).
    sampler_method: str = 'set_plan'
    #: Told to the user when the sampler is wrong (how to switch plans off).
    no_plan_hint: str = ''

    @staticmethod
    def required_sampler(hook_cfg: dict) -> Optional[str]:
        """The sampler type a config with this hook needs (checked when the
        config is read, ``armlab/engine/method_parts.py``)."""
        return 'ResamplingSampler'

    def __init__(self, dataloader='train_eval_dataloader',
                 warmup_epochs: int = 5, interval: int = 1) -> None:
        name = type(self).__name__
        if warmup_epochs < 0 or interval < 1:
            raise ValueError(f'{name}: warmup_epochs must be >= 0 and '
                             f'interval >= 1, got {warmup_epochs} and '
                             f'{interval}')
        self.warmup_epochs = warmup_epochs
        self.interval = interval
        self._valuation = TrainingSetValuation(dataloader, owner=name)
        #: (N, M) values of the last valuation (NaN: not valued yet).
        self._phi: Optional[np.ndarray] = None
        #: The sampler's state after the last plan (saved, restored).
        self._plan: Optional[dict] = None

    # -- what a subclass says -----------------------------------------------
    def makes_plan(self) -> bool:
        """Whether this hook re-samples at all (ARM can switch it off)."""
        return True

    def setup_model(self, model) -> None:
        """Before training: raise when the (unwrapped) model cannot serve
        this hook, and tell it what it needs from the hook (ARM: the
        warm-up)."""

    def value_and_plan(self, runner: Runner, model, epoch: int) -> None:
        """Value the training set after ``epoch`` and set the next plan
        (through :meth:`apply_plan`)."""
        raise NotImplementedError

    def extra_state(self) -> dict:
        """More of the hook's state to checkpoint beside plan and values."""
        return {}

    # -- the frame ------------------------------------------------------------
    def is_valuation_epoch(self, epoch: int) -> bool:
        """True after the 0-based ``epoch`` that ends a warm-up or an
        interval."""
        return epoch >= self.warmup_epochs - 1 and \
            (epoch + 1 - self.warmup_epochs) % self.interval == 0

    def before_train(self, runner: Runner) -> None:
        self.setup_model(unwrap_model(runner.model))
        sampler = runner.train_dataloader.sampler
        if self.makes_plan() and not hasattr(sampler, self.sampler_method):
            raise TypeError(
                f'{type(self).__name__} needs train_dataloader.sampler = '
                f'ResamplingSampler, got {type(sampler).__name__}'
                f'{self.no_plan_hint}')
        if hasattr(sampler, 'set_batch_size'):
            # A plan changes the epoch length; the sampler keeps the last
            # batch from holding one item (BatchNorm) when it knows the size.
            sampler.set_batch_size(
                getattr(runner.train_dataloader, 'batch_size', None))
        if self._plan is not None:  # restored from a checkpoint
            sampler.load_state_dict(self._plan)

    def after_train_epoch(self, runner: Runner) -> None:
        epoch = runner.epoch  # the epoch that just ended (0-based)
        if self.is_valuation_epoch(epoch):
            self.value_and_plan(runner, unwrap_model(runner.model), epoch)

    def apply_plan(self, runner: Runner,
                   set_plan: Callable[[object], None]) -> dict:
        """Give the training sampler a plan (``set_plan(sampler)``), keep its
        state for checkpoints and return its statistics."""
        sampler = runner.train_dataloader.sampler
        set_plan(sampler)
        self._plan = sampler.state_dict()
        return sampler.plan_stats()

    # -- checkpointing --------------------------------------------------------
    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        checkpoint[self.checkpoint_key] = dict(
            plan=self._plan,
            phi=None if self._phi is None else self._phi.tolist(),
            **self.extra_state())

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        state = checkpoint.get(self.checkpoint_key)
        if not state:
            return
        self._plan = state.get('plan')
        if state.get('phi') is not None:
            self._phi = np.array(state['phi'], dtype=float)

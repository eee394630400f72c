"""The frame that ARMHook and ModalityValuationHook share: when it values,
what it asks of the sampler, and the plan it checkpoints and restores."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from armlab.balancers.sampling_plan_hook import SamplingPlanHook
from armlab.datasets.samplers import ResamplingSampler


class RepeatFirstHook(SamplingPlanHook):
    """A toy plan: draw sample 0 twice; records when it was asked."""

    checkpoint_key = 'toy_hook'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.valued_after = []

    def value_and_plan(self, runner, model, epoch):
        self.valued_after.append(epoch)
        self._phi = np.full((6, 2), float(epoch))
        self.apply_plan(runner, lambda s: s.set_plan([2, 1, 1, 1, 1, 1]))


def runner_with(sampler, epoch=0):
    return SimpleNamespace(
        model=torch.nn.Linear(1, 1), epoch=epoch,
        train_dataloader=SimpleNamespace(sampler=sampler, batch_size=4))


def test_values_after_the_warmup_and_every_interval():
    hook = RepeatFirstHook(warmup_epochs=2, interval=3)
    runner = runner_with(ResamplingSampler(list(range(6)), seed=0))
    hook.before_train(runner)
    for epoch in range(10):
        runner.epoch = epoch
        hook.after_train_epoch(runner)
    assert hook.valued_after == [1, 4, 7]  # ends of epochs W-1, +3, +6
    assert [e for e in range(10) if RepeatFirstHook(
        warmup_epochs=0).is_valuation_epoch(e)] == list(range(10))


def test_a_sampler_without_plans_is_refused_naming_the_hook():
    with pytest.raises(TypeError, match='RepeatFirstHook needs train_'
                       'dataloader.sampler = ResamplingSampler, got list'):
        RepeatFirstHook().before_train(runner_with([]))
    with pytest.raises(ValueError, match='RepeatFirstHook: warmup_epochs'):
        RepeatFirstHook(interval=0)


def test_the_plan_and_values_survive_a_checkpoint():
    hook = RepeatFirstHook(warmup_epochs=1)
    sampler = ResamplingSampler(list(range(6)), seed=0)
    runner = runner_with(sampler)
    hook.before_train(runner)
    hook.after_train_epoch(runner)
    assert len(sampler) == 7 and sampler.batch_size == 4
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert set(checkpoint['toy_hook']) == {'plan', 'phi'}

    resumed, fresh = RepeatFirstHook(warmup_epochs=1), ResamplingSampler(
        list(range(6)), seed=0)
    resumed.after_load_checkpoint(runner, checkpoint)
    resumed.before_train(runner_with(fresh))
    assert len(fresh) == 7 and fresh.state_dict() == sampler.state_dict()
    np.testing.assert_array_equal(resumed._phi, hook._phi)

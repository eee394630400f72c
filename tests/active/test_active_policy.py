"""RLPolicyStrategy (RL-MBA-style): exact, unlabelled, seeded selections; the
sign of the REINFORCE step; the reward; resuming from its state_dict; and
carrying θ across episodes through ``policy_path``."""
import io

import numpy as np
import pytest
import torch
from torch import nn

from armlab.active.strategies.base import (AcquisitionContext, PoolOutputs,
                                           check_selection)
from armlab.active.strategies.policy import RLPolicyStrategy, rank_normalise
from armlab.registry import ACQUISITION_STRATEGIES

MODALITIES = ('audio', 'visual')
SUBSETS = ((), ('audio', ), ('visual', ), ('audio', 'visual'))
VAL = {'top1': 50.0, 'acc_audio': 45.0, 'acc_visual': 20.0,
       'share_audio': 70.0, 'share_visual': 30.0, 'gap': 40.0}


def outputs(indices, gen, evidential=True, num_classes=5) -> PoolOutputs:
    n = len(indices)

    def probs():
        return torch.softmax(3 * torch.randn(n, num_classes, generator=gen),
                             dim=1)

    return PoolOutputs(
        indices=np.asarray(indices),
        probs=probs(),
        feats={m: torch.randn(n, 3, generator=gen) for m in MODALITIES},
        subset_probs={s: probs() for s in SUBSETS},
        evidential=dict(uncertainty=torch.rand(n, generator=gen),
                        conflict=torch.rand(n, generator=gen))
        if evidential else None)


def context(seed=0, round=0, num_labelled=10, num_pool=40,
            evidential=True, val=VAL) -> AcquisitionContext:
    """Pool and labelled outputs drawn from a fixed generator; only the
    strategy's rng follows ``seed``."""
    gen = torch.Generator().manual_seed(1234 + num_labelled)
    labelled = np.arange(num_labelled)
    unlabelled = np.arange(num_labelled, num_labelled + num_pool)
    return AcquisitionContext(
        model=nn.Module(), round=round, num_rounds=4, labelled=labelled,
        unlabelled=unlabelled,
        pool=outputs(unlabelled, gen, evidential),
        labelled_outputs=outputs(labelled, gen, evidential),
        val_metrics=dict(val), rng=np.random.default_rng(seed))


@pytest.mark.parametrize('refine', ['kcenter', 'topk'])
@pytest.mark.parametrize('evidential', [True, False])
def test_exact_budget_of_unlabelled_items(refine, evidential):
    strategy = ACQUISITION_STRATEGIES.build(
        dict(type='rl_policy', refine=refine))
    ctx = context(evidential=evidential)
    picked = strategy.select(ctx, 7)
    check_selection(picked, ctx, 7)  # exactly 7, unique, none labelled
    assert len(picked) == 7 and not set(picked) & set(ctx.labelled)
    assert strategy._noted_fallback is (not evidential)


def test_deterministic_for_a_seed():
    first = RLPolicyStrategy().select(context(seed=3), 6)
    again = RLPolicyStrategy().select(context(seed=3), 6)
    assert first.tolist() == again.tolist()
    others = [RLPolicyStrategy().select(context(seed=s), 6).tolist()
              for s in range(4, 9)]
    assert any(o != first.tolist() for o in others)  # the seed matters


def test_rank_normalise_maps_to_unit_interval_with_shared_ties():
    z = rank_normalise(torch.tensor([3.0, -1.0, 3.0, 10.0, 0.0]))
    assert z.tolist() == [0.625, 0.0, 0.625, 1.0, 0.25]


@pytest.mark.parametrize('reward', [1.0, -1.0])
def test_reinforce_moves_log_prob_with_the_advantage(reward):
    strategy = RLPolicyStrategy(entropy_coef=0.0, lr=1e-2)
    strategy.select(context(), 5)
    state, w, omega = (strategy.pending[k] for k in ('state', 'w', 'omega'))
    before = float(strategy.policy.log_prob(state, w, omega).detach())
    info = strategy.reinforce(state, w, omega, reward)
    after = float(strategy.policy.log_prob(state, w, omega).detach())
    assert info['advantage'] == reward  # the baseline starts at 0
    assert np.sign(after - before) == np.sign(reward)
    assert strategy.baseline == pytest.approx(0.1 * reward)


def test_observe_rewards_accuracy_gain_and_balance():
    strategy = RLPolicyStrategy()
    strategy.select(context(), 5)  # validation top-1 was 50 %
    after = {'top1': 60.0, 'share_audio': 70.0, 'share_visual': 30.0}
    strategy.observe(context(round=1), after)
    # r = (0.60 - 0.50) + 1.0 * -|0.70 - 0.30| = -0.30
    assert strategy.history[-1]['reward'] == pytest.approx(-0.3)
    assert strategy.pending is None and strategy.num_updates == 1
    with pytest.raises(KeyError, match='shapley_share_audio'):
        strategy.select(context(), 5)
        strategy.observe(context(round=1), {'top1': 60.0})


def test_state_dict_round_trip_gives_identical_next_selections():
    first = RLPolicyStrategy()
    first.select(context(seed=1), 5)
    first.observe(context(round=1), {**VAL, 'top1': 55.0})
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)  # as the loop saves it
    resumed = RLPolicyStrategy()
    resumed.load_state_dict(torch.load(io.BytesIO(buf.getvalue()),
                                       weights_only=False))
    ctx = dict(seed=2, round=1, num_labelled=15, num_pool=35)
    assert resumed.select(context(**ctx), 5).tolist() == \
        first.select(context(**ctx), 5).tolist()
    # ... and the same next update.
    for s in (first, resumed):
        s.observe(context(round=2), {**VAL, 'top1': 58.0})
    for p, q in zip(first.policy.parameters(), resumed.policy.parameters()):
        torch.testing.assert_close(p, q)


def test_dirichlet_concentration_is_positive():
    strategy = RLPolicyStrategy()
    strategy.select(context(), 5)
    states = 1e3 * torch.randn(64, len(strategy.pending['state']),
                               generator=torch.Generator().manual_seed(0),
                               dtype=torch.float64)
    conc_w, conc_omega = strategy.policy(states)
    assert conc_w.shape == (64, 4) and conc_omega.shape == (64, 2)
    assert bool((conc_w > 0).all()) and bool((conc_omega > 0).all())


def test_policy_path_carries_theta_across_episodes(tmp_path):
    path = tmp_path / 'policy.pth'
    episode1 = RLPolicyStrategy(policy_path=str(path))
    episode1.select(context(seed=0), 5)
    episode1.observe(context(round=1), {**VAL, 'top1': 70.0})
    assert path.is_file()
    episode2 = RLPolicyStrategy(policy_path=str(path))
    episode2.select(context(seed=9), 5)  # a different seed's init
    for p, q in zip(episode1.policy.parameters(),
                    episode2.policy.parameters()):
        torch.testing.assert_close(p, q)
    assert episode2.num_updates == 1 and episode2.history == []


def test_bad_options_and_contexts_are_refused():
    with pytest.raises(ValueError, match="balance 'fairness'"):
        RLPolicyStrategy(balance='fairness')
    with pytest.raises(ValueError, match='mc_probs'):
        RLPolicyStrategy(uncertainty='bald').select(context(), 5)

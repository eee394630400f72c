"""The classical acquisition strategies on hand-made pool outputs."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from armlab.active.pool_outputs import mc_dropout_probs
from armlab.active.strategies import (AcquisitionContext, PoolOutputs,
                                      bald_scores, bmmal_shares,
                                      build_strategy, check_selection,
                                      gradient_embedding, kcenter_greedy,
                                      kmeans_representatives,
                                      kmeanspp_seeding, top_k)

CLASSICAL = ('random', 'entropy', 'margin', 'least_confidence', 'bald',
             'coreset', 'kmeans', 'badge', 'bmmal')
NUM, LABELLED, K = 40, 8, 4


def _probs(gen, n, k=K):
    return F.softmax(3 * torch.randn(n, k, generator=gen), dim=1)


def _outputs(gen, indices) -> PoolOutputs:
    n = len(indices)
    subsets = [(), ('audio', ), ('visual', ), ('audio', 'visual')]
    subset_probs = {s: _probs(gen, n) for s in subsets}
    return PoolOutputs(indices=np.asarray(indices),
                       probs=subset_probs[('audio', 'visual')],
                       feats={'audio': torch.randn(n, 5, generator=gen),
                              'visual': torch.randn(n, 3, generator=gen)},
                       subset_probs=subset_probs)


def make_ctx(seed: int = 0) -> AcquisitionContext:
    """A pool of 32 (dataset indices 8..39, shuffled labelled set 0..7)."""
    gen = torch.Generator().manual_seed(123)
    labelled = np.arange(LABELLED)
    unlabelled = np.arange(LABELLED, NUM)
    pool = _outputs(gen, unlabelled)
    mc = torch.stack([_probs(gen, len(unlabelled)) for _ in range(10)])
    return AcquisitionContext(
        model=nn.Identity(), round=0, num_rounds=2, labelled=labelled,
        unlabelled=unlabelled, pool=pool,
        labelled_outputs=_outputs(gen, labelled),
        rng=np.random.default_rng([seed, 0, 0]),
        mc_probs=lambda passes: mc[:passes])


@pytest.mark.parametrize('name', CLASSICAL)
def test_strategy_picks_its_budget_from_the_pool_deterministically(name):
    budget = 7
    picks = build_strategy(name).select(make_ctx(), budget)
    ctx = make_ctx()
    checked = check_selection(picks, ctx, budget)
    assert len(checked) == budget == len(set(checked.tolist()))
    assert not set(checked.tolist()) & set(ctx.labelled.tolist())
    assert set(checked.tolist()) <= set(ctx.unlabelled.tolist())
    again = build_strategy(name).select(make_ctx(), budget)
    np.testing.assert_array_equal(picks, again)


@pytest.mark.parametrize('name', ('random', 'badge', 'bmmal', 'kmeans'))
def test_seeded_strategies_change_with_the_seed(name):
    picks = {tuple(sorted(build_strategy(name).select(make_ctx(s), 7)))
             for s in range(4)}
    assert len(picks) > 1


def test_budget_of_the_whole_pool_and_of_one():
    ctx = make_ctx()
    for name in CLASSICAL:
        everything = build_strategy(name).select(make_ctx(), len(
            ctx.unlabelled))
        assert sorted(everything) == ctx.unlabelled.tolist(), name
        assert len(build_strategy(name).select(make_ctx(), 1)) == 1, name


def test_uncertainty_scores_rank_as_defined():
    ctx = make_ctx()
    p = ctx.pool.probs.double()
    entropy = -(p * p.log()).sum(1)
    top2 = p.sort(dim=1, descending=True).values
    expected = {
        'entropy': np.argsort(-entropy.numpy(), kind='stable')[:5],
        'margin': np.argsort((top2[:, 0] - top2[:, 1]).numpy(),
                             kind='stable')[:5],
        'least_confidence': np.argsort(top2[:, 0].numpy(),
                                       kind='stable')[:5],
    }
    for name, order in expected.items():
        picks = build_strategy(name).select(ctx, 5)
        np.testing.assert_array_equal(picks, ctx.unlabelled[order], name)


def test_top_k_breaks_ties_by_pool_order():
    ctx = make_ctx()
    scores = np.zeros(len(ctx.unlabelled))
    scores[[3, 10]] = 1.0
    np.testing.assert_array_equal(top_k(ctx, scores, 4),
                                  ctx.unlabelled[[3, 10, 0, 1]])


def test_check_selection_names_each_fault():
    ctx = make_ctx()
    with pytest.raises(ValueError, match='returned 2 indices'):
        check_selection([8, 9], ctx, 3)
    with pytest.raises(ValueError, match='repeated'):
        check_selection([8, 8, 9], ctx, 3)
    with pytest.raises(ValueError, match='already labelled'):
        check_selection([0, 8, 9], ctx, 3)
    with pytest.raises(ValueError, match='outside the pool'):
        check_selection([8, 9, 400], ctx, 3)


def test_bald_score_on_hand_values():
    # Two passes that disagree completely: H(mean) = log 2, mean H = 0.
    # Two identical uncertain passes: H(mean) = mean H, score 0.
    mc = torch.tensor([[[1.0, 0.0], [0.5, 0.5]],
                       [[0.0, 1.0], [0.5, 0.5]]])
    scores = bald_scores(mc)
    assert scores[0].item() == pytest.approx(math.log(2))
    assert scores[1].item() == pytest.approx(0.0, abs=1e-12)
    # A hand-computed mixed case.
    p1, p2 = torch.tensor([0.7, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.6])
    mean = (p1 + p2) / 2

    def h(p):
        return -sum(float(x) * math.log(float(x)) for x in p)

    score = bald_scores(torch.stack([p1, p2])[:, None, :])
    assert score.item() == pytest.approx(h(mean) - (h(p1) + h(p2)) / 2)


def _farthest_point_reference(pool, labelled, budget):
    """Plain-Python sequential farthest-point selection."""
    centers = [list(p) for p in labelled]
    chosen = []
    for _ in range(budget):
        best, best_d = None, -1.0
        for i, p in enumerate(pool):
            if i in chosen:
                continue
            d = min(math.dist(p, c) for c in centers)
            if d > best_d:
                best, best_d = i, d
        chosen.append(best)
        centers.append(list(pool[best]))
    return chosen


def test_kcenter_greedy_matches_brute_force():
    gen = torch.Generator().manual_seed(5)
    pool = torch.randn(8, 2, generator=gen)
    labelled = torch.randn(2, 2, generator=gen)
    picks = kcenter_greedy(pool, labelled, 3).tolist()
    assert picks == _farthest_point_reference(pool.tolist(),
                                              labelled.tolist(), 3)
    # Greedy maximises the covering radius step by step: the first pick is
    # the brute-force best single addition.
    radius = {i: min(math.dist(pool[i].tolist(), c.tolist())
                     for c in labelled) for i in range(8)}
    assert picks[0] == max(radius, key=radius.get)


def test_kcenter_greedy_never_repeats_duplicates():
    pool = torch.zeros(4, 3)
    assert sorted(kcenter_greedy(pool, torch.ones(1, 3), 4)) == [0, 1, 2, 3]


def test_badge_first_pick_is_the_largest_gradient_embedding():
    ctx = make_ctx()
    emb = gradient_embedding(ctx.pool.probs, ctx.pool.feats)
    assert emb.shape == (len(ctx.unlabelled), K * 8)
    first = build_strategy('badge').select(ctx, 5)[0]
    assert first == ctx.unlabelled[int(emb.norm(dim=1).argmax())]
    # g = (p - onehot(ŷ)) ⊗ z_mm, interleaved per class.
    p, z = ctx.pool.probs[0], ctx.pool.embedding[0]
    residual = p - F.one_hot(p.argmax(), K).float()
    torch.testing.assert_close(emb[0], torch.outer(residual, z).flatten())


def test_kmeanspp_never_draws_a_seed_twice():
    emb = torch.tensor([[0.0, 0.0], [0.0, 0.0], [5.0, 0.0], [0.0, 0.0]])
    picks = kmeanspp_seeding(emb, 4, np.random.default_rng(0))
    assert sorted(picks.tolist()) == [0, 1, 2, 3]
    assert picks[0] == 2  # the largest norm


def test_kmeans_takes_one_item_per_cluster():
    gen = torch.Generator().manual_seed(0)
    centers = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    emb = torch.cat([c + 0.1 * torch.randn(5, 2, generator=gen)
                     for c in centers])
    picks = kmeans_representatives(emb, 3, np.random.default_rng(1))
    assert sorted(int(p) // 5 for p in picks) == [0, 1, 2]


def _hand_subset_probs():
    """Two samples, K = 2; sample 0 is audio-dominant, sample 1 a tie."""
    return {
        (): torch.tensor([[0.5, 0.5], [0.5, 0.5]]),
        ('audio', ): torch.tensor([[0.9, 0.1], [0.7, 0.3]]),
        ('visual', ): torch.tensor([[0.6, 0.4], [0.7, 0.3]]),
        ('audio', 'visual'): torch.tensor([[0.95, 0.05], [0.9, 0.1]]),
    }


def test_bmmal_shares_and_scales_follow_the_rule():
    probs = _hand_subset_probs()
    preds = torch.tensor([0, 0])
    shares, scales = bmmal_shares(probs, preds, ('audio', 'visual'))
    # Sample 0 at ŷ = 0: Δ_a = ½[(.95-.6)+(.9-.5)] = .375,
    # Δ_v = ½[(.95-.9)+(.6-.5)] = .075; c = (.8333, .1667).
    c_a, c_v = 0.375 / 0.45, 0.075 / 0.45
    torch.testing.assert_close(shares[0], torch.tensor(
        [c_a, c_v], dtype=torch.float64))
    torch.testing.assert_close(scales[0], torch.tensor(
        [1.0, 1 - (c_a - c_v)], dtype=torch.float64))
    # Sample 1: equal deltas, a tie: the second modality counts as strong,
    # both scales are 1 (c_strong - c_weak = 0).
    torch.testing.assert_close(shares[1], torch.tensor(
        [0.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(scales[1], torch.ones(2, dtype=torch.float64))


def test_bmmal_scales_only_the_weak_modality_block():
    probs = _hand_subset_probs()
    fused = probs[('audio', 'visual')]
    feats = {'audio': torch.ones(2, 3), 'visual': torch.ones(2, 2)}
    _, scales = bmmal_shares(probs, fused.argmax(1), ('audio', 'visual'))
    emb = gradient_embedding(fused, feats, scales).view(2, 2, 5)
    plain = gradient_embedding(fused, feats).view(2, 2, 5)
    weak = 1 - (0.375 - 0.075) / 0.45
    # Per class: [audio block (3), visual block (2)].
    torch.testing.assert_close(emb[0, :, :3], plain[0, :, :3])
    torch.testing.assert_close(emb[0, :, 3:], weak * plain[0, :, 3:])
    torch.testing.assert_close(emb[1], plain[1])


def test_bmmal_for_three_modalities_uses_exact_shapley():
    mods = ('a', 'b', 'c')
    gen = torch.Generator().manual_seed(2)
    probs = {s: _probs(gen, 6, 3) for r in range(4)
             for s in itertools.combinations(mods, r)}
    preds = probs[mods].argmax(1)
    shares, scales = bmmal_shares(probs, preds, mods)
    torch.testing.assert_close(shares.sum(1),
                               torch.ones(6, dtype=torch.float64))
    strongest = shares.max(dim=1).values
    torch.testing.assert_close(scales, 1 - (strongest[:, None] - shares))
    assert torch.all(scales.max(dim=1).values == 1)


class _TinyModel(nn.Module):
    def __init__(self, dropout: float = None):
        super().__init__()
        layers = [nn.Dropout(dropout)] if dropout is not None else []
        self.fusion = nn.Sequential(*layers, nn.Linear(5, 3))

    def fuse(self, feats):
        return self.fusion(torch.cat([feats['a'], feats['b']], dim=1))


def test_mc_dropout_is_seeded_and_uses_the_fusion_dropout_if_any():
    torch.manual_seed(0)
    feats = {'a': torch.randn(6, 2), 'b': torch.randn(6, 3)}
    model = _TinyModel().eval()
    first = mc_dropout_probs(model, feats, 4, seed=1)
    assert first.shape == (4, 6, 3)
    torch.testing.assert_close(first, mc_dropout_probs(model, feats, 4, 1))
    assert not torch.allclose(first[0], first[1])  # feature dropout varies
    assert not model.training
    # A fusion whose own dropout drops everything gives the bias only.
    full = _TinyModel(dropout=1.0).eval()
    probs = mc_dropout_probs(full, feats, 2, seed=1)
    bias = F.softmax(full.fusion[1].bias, dim=0)
    torch.testing.assert_close(probs, bias.expand(2, 6, 3).detach())
    assert not full.fusion[0].training


def test_unknown_strategy_lists_the_registered_ones():
    with pytest.raises(KeyError, match='bmmal'):
        build_strategy('nope')

"""Exact Shapley values and the masked-head contributions built on them."""
import math
from itertools import combinations, permutations

import pytest
import torch

from armlab.evaluation.valuation import (dataset_shapley,
                                         modality_information,
                                         pointwise_contributions,
                                         shapley_values,
                                         subset_log_likelihoods,
                                         subset_predictions)
from armlab.models import MultimodalClassifier

K = 5
AV = ('audio', 'visual')


def all_subsets(names):
    return [c for r in range(len(names) + 1) for c in combinations(names, r)]


def random_game(names, shape=(3, ), seed=0):
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randn(*shape, generator=g) for s in all_subsets(names)}


def permutation_shapley(values, names):
    """Brute force: average marginal contribution over all orderings."""
    v = {frozenset(s): x for s, x in values.items()}
    phi = {m: 0 for m in names}
    orders = list(permutations(names))
    for order in orders:
        before = frozenset()
        for m in order:
            phi[m] = phi[m] + v[before | {m}] - v[before]
            before = before | {m}
    return {m: p / len(orders) for m, p in phi.items()}


# -- shapley_values -----------------------------------------------------------
@pytest.mark.parametrize('names', [AV, ('a', 'b', 'c'), ('a', 'b', 'c', 'd')])
def test_efficiency(names):
    values = random_game(names, shape=(4, K))
    phi = shapley_values(values, names)
    torch.testing.assert_close(sum(phi.values()), values[names] - values[()])
    assert phi[names[0]].shape == (4, K)


@pytest.mark.parametrize('names', [('a', 'b', 'c'), ('a', 'b', 'c', 'd')])
def test_matches_permutation_average(names):
    values = random_game(names, seed=len(names))
    phi = shapley_values(values, names)
    ref = permutation_shapley(values, names)
    for m in names:
        torch.testing.assert_close(phi[m], ref[m])


def test_two_player_closed_form():
    values = random_game(AV, seed=1)
    phi = shapley_values(values, AV)
    a, v = ('audio', ), ('visual', )
    torch.testing.assert_close(
        phi['audio'],
        0.5 * ((values[a] - values[()]) + (values[AV] - values[v])))


def test_hand_computed_three_player_game():
    values = {(): 0., ('a', ): 1., ('b', ): 2., ('c', ): 0., ('a', 'b'): 4.,
              ('a', 'c'): 1., ('b', 'c'): 2., ('a', 'b', 'c'): 6.}
    phi = shapley_values(values, 'abc')
    assert phi == pytest.approx({'a': 13 / 6, 'b': 19 / 6, 'c': 4 / 6})


def test_symmetry_and_null_player():
    names = ('a', 'b', 'c')
    # v(S) depends on |S ∩ {a, b}| only: a and b are symmetric, c is null.
    values = {s: torch.tensor([float(len({'a', 'b'} & set(s)))**2, -1.0])
              for s in all_subsets(names)}
    phi = shapley_values(values, names)
    torch.testing.assert_close(phi['a'], phi['b'])
    torch.testing.assert_close(phi['c'], torch.zeros(2))


def test_errors():
    names = tuple('abcde')
    with pytest.raises(ValueError, match='M = 5'):
        shapley_values(random_game(names), names)
    values = random_game(AV)
    del values[('visual', )]
    with pytest.raises(ValueError, match=r"\('visual',\) is missing"):
        shapley_values(values, AV)
    with pytest.raises(ValueError, match='outside'):
        shapley_values({**random_game(AV), ('depth', ): 0.}, AV)


def test_dataset_shapley_on_accuracies():
    acc = {(): 0.2, ('audio', ): 0.7, ('visual', ): 0.4, AV: 0.9}
    phi = dataset_shapley(acc, AV)
    assert phi['audio'] == pytest.approx(0.5 * ((0.7 - 0.2) + (0.9 - 0.4)))
    assert phi['visual'] == pytest.approx(0.5 * ((0.4 - 0.2) + (0.9 - 0.7)))
    assert isinstance(phi['audio'], float)


# -- contributions on a real tiny classifier ----------------------------------
def tiny_classifier(names=AV):
    types = dict(audio='SpectrogramResNet', visual='FrameResNet',
                 depth='SpectrogramResNet')
    torch.manual_seed(0)
    model = MultimodalClassifier(
        encoders={m: dict(type=types[m], base_channels=4) for m in names},
        fusion=dict(type='ConcatFusion'),
        num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    return model.eval()


def random_feats(model, b=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, c, generator=g)
            for m, c in model.fusion.in_channels.items()}


def random_labels(b, seed=1, k=K):
    return torch.randint(0, k, (b, ), generator=torch.Generator().manual_seed(
        seed))


@pytest.mark.parametrize('names', [AV, ('audio', 'visual', 'depth')])
def test_pointwise_efficiency(names):
    model = tiny_classifier(names)
    feats, labels = random_feats(model), random_labels(8)
    out = pointwise_contributions(model, feats, labels)
    ll = out['log_lik']
    assert set(ll) == set(model.all_subsets())
    torch.testing.assert_close(sum(out['shapley'].values()),
                               ll[names] - ll[()])
    assert all(v.shape == (8, ) for v in out['shapley'].values())


def test_two_modalities_phi_is_half_mi_plus_cmi():
    model = tiny_classifier()
    feats, labels = random_feats(model), random_labels(8)
    out = pointwise_contributions(model, feats, labels)
    ll = out['log_lik']
    torch.testing.assert_close(out['mi']['audio'],
                               ll[('audio', )] - ll[()])
    torch.testing.assert_close(out['cmi']['audio'], ll[AV] - ll[('visual', )])
    for m in AV:
        torch.testing.assert_close(out['shapley'][m],
                                   0.5 * (out['mi'][m] + out['cmi'][m]))
    # i_m - c_m is the pointwise co-information, symmetric in a and v.
    torch.testing.assert_close(out['mi']['audio'] - out['cmi']['audio'],
                               out['mi']['visual'] - out['cmi']['visual'])


def test_log_likelihoods_are_log_softmax_of_masked_logits():
    model = tiny_classifier()
    feats, labels = random_feats(model), random_labels(8)
    ll = subset_log_likelihoods(model, feats, labels)
    z = model.masked_logits(feats, [('visual', )])[('visual', )]
    expected = torch.log_softmax(z, 1)[torch.arange(8), labels]
    torch.testing.assert_close(ll[('visual', )], expected)


def test_prior_changes_only_the_empty_subset():
    model = tiny_classifier()
    feats, labels = random_feats(model), random_labels(8)
    prior = torch.tensor([0.4, 0.3, 0.1, 0.1, 0.1])
    plain = subset_log_likelihoods(model, feats, labels)
    with_prior = subset_log_likelihoods(model, feats, labels, prior=prior)
    assert list(with_prior) == list(plain)
    for s in model.all_subsets():
        if s:
            torch.testing.assert_close(with_prior[s], plain[s])
    torch.testing.assert_close(with_prior[()], prior.log()[labels])
    assert not torch.allclose(with_prior[()], plain[()])
    with pytest.raises(ValueError, match='prior must have shape'):
        subset_log_likelihoods(model, feats, labels, prior=torch.ones(3))


def test_zero_features_make_a_null_player():
    """With the zero fill, all-zero visual features equal an absent visual."""
    model = tiny_classifier()
    feats, labels = random_feats(model), random_labels(8)
    feats['visual'] = torch.zeros_like(feats['visual'])
    out = pointwise_contributions(model, feats, labels)
    torch.testing.assert_close(out['shapley']['visual'], torch.zeros(8))
    assert out['shapley']['audio'].abs().sum() > 0
    # A zero feature weight does the same through the ``weights`` option.
    feats = random_feats(model)
    out = pointwise_contributions(model, feats, labels,
                                  weights=torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(out['shapley']['visual'], torch.zeros(8))


def test_no_gradient_is_recorded():
    model = tiny_classifier().train()
    feats = {m: f.requires_grad_() for m, f in random_feats(model).items()}
    labels = random_labels(8)
    out = pointwise_contributions(model, feats, labels)
    tensors = [*out['shapley'].values(), *out['mi'].values(),
               *out['cmi'].values(), *out['log_lik'].values(),
               *subset_predictions(model, feats).values()]
    assert not any(t.requires_grad for t in tensors)


def test_subset_predictions_are_argmax_of_nonempty_heads():
    model = tiny_classifier()
    feats = random_feats(model)
    preds = subset_predictions(model, feats)
    assert set(preds) == {('audio', ), ('visual', ), AV}
    torch.testing.assert_close(preds[AV], model.fuse(feats).argmax(1))


# -- modality_information (plug-in B2) ----------------------------------------
def test_modality_information_chain_rule_on_model_predictions():
    model = tiny_classifier()
    feats, labels = random_feats(model, b=400), random_labels(400)
    preds = subset_predictions(model, feats)
    for mm in (False, True):
        info = modality_information(preds, labels, AV, K, miller_madow=mm)
        assert info['phi']['audio'] + info['phi']['visual'] == \
            pytest.approx(info['joint'], abs=1e-9)
        for m in AV:
            assert info['phi'][m] == pytest.approx(
                0.5 * (info['mi'][m] + info['cmi'][m]))


def test_modality_information_finds_the_informative_modality():
    n = 2000
    labels = random_labels(n, seed=3)
    preds = {('audio', ): random_labels(n, seed=4), ('visual', ): labels}
    info = modality_information(preds, labels, AV, K)
    assert info['mi']['visual'] == pytest.approx(info['entropy_y'])
    assert info['phi']['visual'] > 1.0 > 0.05 > info['phi']['audio']
    assert info['phi']['visual'] > 20 * info['phi']['audio']
    norm = modality_information(preds, labels, AV, K, normalize=True)
    assert norm['phi']['visual'] == pytest.approx(1.0, abs=0.02)
    assert norm['joint'] == pytest.approx(1.0)
    assert info['entropy_y'] == pytest.approx(math.log(K), abs=0.01)


def test_modality_information_string_keys_and_warning():
    labels = random_labels(50)
    preds = {'audio': random_labels(50, seed=5), 'visual': labels}
    with pytest.warns(UserWarning, match='cells'):
        modality_information(preds, labels, AV, K)
    with pytest.raises(KeyError, match='depth'):
        modality_information(preds, labels, ('depth', ), K, warn=False)
    single = modality_information(preds, labels, ('visual', ), K, warn=False)
    assert single['cmi']['visual'] == single['mi']['visual']

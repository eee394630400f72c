"""EvidentialFusion: the reduced Dempster-Shafer rule, vacuous opinions, the
TMC loss against a slow scipy reference, annealing, gradients, and a tiny
end-to-end run of the config through tools/train.py and tools/test.py."""
import re

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from scipy.special import digamma, gammaln

from conftest import REPO, run_tool, tiny_options, train_in_process

from armlab.models.fusions.evidential import (
    EvidentialFusion, alpha_from_opinion, annealing_weight, combine_opinions,
    dirichlet_kl_to_uniform, evidential_loss, fold_opinions,
    opinion_from_alpha)
from armlab.registry import MODELS
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'evidential' / 'evidential_resnet18_avdigits.py'


def identity_fusion(**kwargs) -> EvidentialFusion:
    """Two 2-d modalities whose heads are the identity: with ReLU evidence
    the features are the evidence."""
    fusion = MODELS.build(dict(type='EvidentialFusion', modalities=('a', 'v'),
                               in_channels=dict(a=2, v=2), num_classes=2,
                               evidence='relu', **kwargs))
    with torch.no_grad():
        for head in fusion.heads.values():
            head.weight.copy_(torch.eye(2))
            head.bias.zero_()
    return fusion


def random_fusion(**kwargs) -> EvidentialFusion:
    torch.manual_seed(0)
    return MODELS.build(dict(type='EvidentialFusion', modalities=('a', 'v'),
                             in_channels=dict(a=5, v=3), num_classes=4,
                             **kwargs))


def random_opinion(n=6, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return opinion_from_alpha(1 + 5 * torch.rand(n, k, generator=g,
                                                 dtype=torch.float64))


def test_combination_matches_hand_computed_two_class_example():
    # Audio: e = (2, 0), alpha = (3, 1), S = 4 -> b = (1/2, 0), u = 1/2.
    # Visual: e = (0, 1), alpha = (1, 2), S = 3 -> b = (0, 1/3), u = 2/3.
    # C = b1_1 b2_2 + b1_2 b2_1 = 1/2 * 1/3 + 0 = 1/6; 1 - C = 5/6.
    # b_1 = (0 + 1/2 * 2/3 + 0) / (5/6) = 2/5; b_2 = (0 + 0 + 1/3 * 1/2)
    # / (5/6) = 1/5; u = (1/2 * 2/3) / (5/6) = 2/5; S = 2/u = 5,
    # e = b S = (2, 1), alpha = (3, 2).
    fusion = identity_fusion()
    out = fusion.opinions(dict(a=torch.tensor([[2., 0.]]),
                               v=torch.tensor([[0., 1.]])))
    torch.testing.assert_close(out['a_belief'], torch.tensor([[.5, 0.]]))
    torch.testing.assert_close(out['v_uncertainty'], torch.tensor([2 / 3]))
    torch.testing.assert_close(out['conflict'], torch.tensor([1 / 6]))
    torch.testing.assert_close(out['belief'], torch.tensor([[.4, .2]]))
    torch.testing.assert_close(out['uncertainty'], torch.tensor([.4]))
    torch.testing.assert_close(out['alpha'], torch.tensor([[3., 2.]]))
    # The logits are log alpha: softmax is the Dirichlet mean (3/5, 2/5).
    logits = fusion(dict(a=torch.tensor([[2., 0.]]),
                         v=torch.tensor([[0., 1.]])))
    torch.testing.assert_close(logits.softmax(1), torch.tensor([[.6, .4]]))


def test_every_opinion_sums_to_one():
    fusion = random_fusion(pseudo_view=True)
    feats = dict(a=torch.randn(8, 5), v=torch.randn(8, 3))
    out = fusion.opinions(feats)
    for view in ('a_', 'v_', 'pseudo_', ''):
        total = out[f'{view}belief'].sum(1) + out[f'{view}uncertainty']
        torch.testing.assert_close(total, torch.ones(8))
        assert bool((out[f'{view}belief'] >= 0).all())
    assert bool(((out['conflict'] >= 0) & (out['conflict'] < 1)).all())


def test_vacuous_opinion_is_the_identity_of_the_combination():
    belief, uncertainty = random_opinion()
    vacuous = (torch.zeros_like(belief), torch.ones_like(uncertainty))
    for pair in (((belief, uncertainty), vacuous),
                 (vacuous, (belief, uncertainty))):
        b, u, c = combine_opinions(*pair)
        torch.testing.assert_close(b, belief)
        torch.testing.assert_close(u, uncertainty)
        assert bool((c == 0).all())
    # Through the fusion: an absent modality leaves the other's opinion.
    fusion = random_fusion()
    feats = dict(a=torch.randn(6, 5), v=torch.randn(6, 3))
    only_a = torch.tensor([[True, False]]).expand(6, -1)
    out = fusion.opinions(feats, present=only_a)
    torch.testing.assert_close(out['v_belief'], torch.zeros(6, 4))
    torch.testing.assert_close(out['v_uncertainty'], torch.ones(6))
    torch.testing.assert_close(out['alpha'], out['a_alpha'])
    torch.testing.assert_close(out['conflict'], torch.zeros(6))
    # ... so the masked per-modality head is that modality's own opinion,
    # and nothing present is the uniform Dirichlet.
    masked = fusion.subset_logits(feats, [('v', ), ()])
    full = fusion.opinions(feats)
    torch.testing.assert_close(masked[('v', )], full['v_alpha'].log())
    torch.testing.assert_close(masked[()], torch.zeros(6, 4))


def test_fold_is_order_free_and_its_conflict_is_the_empty_set_mass():
    views = [random_opinion(seed=s) for s in range(3)]
    b, u, c = fold_opinions(views)
    b2, u2, c2 = fold_opinions(views[::-1])
    torch.testing.assert_close(b, b2)
    torch.testing.assert_close(u, u2)
    torch.testing.assert_close(c, c2)
    # M = 2: the fold's conflict is the pairwise one.
    torch.testing.assert_close(fold_opinions(views[:2])[2],
                               combine_opinions(*views[:2])[2])
    torch.testing.assert_close(alpha_from_opinion(*opinion_from_alpha(
        torch.tensor([[3., 1.5, 2.]]))), torch.tensor([[3., 1.5, 2.]]))


def slow_kl(alpha: np.ndarray) -> float:
    """KL(Dir(α) ‖ Dir(1)), term by term."""
    s = alpha.sum()
    kl = gammaln(s) - gammaln(len(alpha)) - sum(gammaln(a) for a in alpha)
    return kl + sum((a - 1) * (digamma(a) - digamma(s)) for a in alpha)


def slow_tmc_loss(alpha: np.ndarray, label: int, kl_weight: float) -> float:
    """Σ_k y_k(ψ(S) − ψ(α_k)) + λ KL(Dir(α̃) ‖ Dir(1)), term by term."""
    fit = digamma(alpha.sum()) - digamma(alpha[label])
    tilde = alpha.copy()
    tilde[label] = 1.0
    return fit + kl_weight * slow_kl(tilde)


def test_digamma_loss_and_kl_match_a_scipy_reference():
    rng = np.random.default_rng(0)
    alpha = 1 + 20 * rng.random((7, 5))
    labels = rng.integers(0, 5, size=7)
    ours = evidential_loss(torch.from_numpy(alpha), torch.from_numpy(labels),
                           kl_weight=0.3, loss_form='digamma')
    ref = [slow_tmc_loss(a, y, 0.3) for a, y in zip(alpha, labels)]
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-6)
    kl = dirichlet_kl_to_uniform(torch.from_numpy(alpha)).numpy()
    kl_ref = [slow_kl(a) for a in alpha]
    np.testing.assert_allclose(kl, kl_ref, rtol=0, atol=1e-6)
    # MSE form: a confident correct Dirichlet costs less than a wrong one.
    good, bad = evidential_loss(torch.tensor([[50., 1.], [1., 50.]]),
                                torch.tensor([0, 0]), 0.0, 'mse')
    assert float(good) < 0.05 < float(bad)
    with pytest.raises(ValueError, match='loss_form'):
        evidential_loss(torch.ones(1, 2), torch.zeros(1).long(), 0.0, 'l1')


def test_kl_weight_anneals_with_the_runner_epoch():
    assert [annealing_weight(e, 4) for e in (0, 1, 2, 4, 7)] == \
        [0.0, 0.25, 0.5, 1.0, 1.0]
    fusion = random_fusion()
    feats = dict(a=torch.randn(6, 5), v=torch.randn(6, 3))
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    fused = fusion.opinions(feats)['alpha']
    hub = MessageHub.get_current_instance()
    try:
        for epoch, weight in ((0, 0.0), (2, 0.5), (9, 1.0)):
            hub.update_info('epoch', epoch)
            loss = fusion.extra_losses(feats, labels)['loss_evidential_fused']
            expected = evidential_loss(fused, labels, weight).mean()
            torch.testing.assert_close(loss, expected)
    finally:
        hub.update_info('epoch', 0)


def test_gradient_reaches_every_evidence_head():
    fusion = random_fusion(pseudo_view=True)
    feats = dict(a=torch.randn(6, 5), v=torch.randn(6, 3))
    losses = fusion.extra_losses(feats, torch.tensor([0, 1, 2, 3, 0, 1]))
    assert set(losses) == {'loss_evidential_a', 'loss_evidential_v',
                           'loss_evidential_pseudo', 'loss_evidential_fused'}
    sum(losses.values()).backward()
    for name, head in [*fusion.heads.items(), ('pseudo', fusion.pseudo_head)]:
        assert head.weight.grad is not None, name
        assert float(head.weight.grad.abs().sum()) > 0, name


def test_bad_options_name_the_culprit():
    with pytest.raises(ValueError, match="evidence 'tanh'"):
        random_fusion(evidence='tanh')
    with pytest.raises(ValueError, match="loss_form 'l1'"):
        random_fusion(loss_form='l1')


@pytest.mark.e2e
def test_config_trains_and_tests_end_to_end(tiny_root, tmp_path):
    work = tmp_path / 'work'
    opts = tiny_options(tiny_root, epochs=2)
    train_in_process(CONFIG, work, '--cfg-options',
                     *opts)
    rows = load_scalars(work)
    train = [r for r in rows if 'loss_evidential_fused' in r]
    assert train and all(k in train[-1] for k in (
        'loss_evidential_audio', 'loss_evidential_visual', 'loss_cls'))
    assert train[-1]['loss_cls'] == 0.0  # CE on log alpha is off
    val = [r for r in rows if 'accuracy/top1' in r][-1]
    for key in ('acc_audio_mask', 'acc_visual_mask', 'acc_audio_aux',
                'shapley_share_audio'):
        assert key in val
    proc = run_tool('tools/test.py', CONFIG, work / 'epoch_2.pth', '--split',
                    'test', '--work-dir', tmp_path / 'test', '--cfg-options',
                    *opts)
    found = re.search(r"'accuracy/top1': ([0-9.]+)", proc.stdout)
    assert found, proc.stdout[-2000:]
    print(f'evidential tiny test accuracy: {found.group(1)} %')
    # 20 test samples in the tiny build: a multiple of 5 %.
    assert 0.0 <= float(found.group(1)) <= 100.0
    assert float(found.group(1)) % 5 == pytest.approx(0, abs=1e-4)

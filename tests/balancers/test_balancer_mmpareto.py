"""MMPareto: min-norm weights, per-tensor magnitude rule, the encoder
gradients of a real step (2 and 3 modalities), trained heads, and a 2-epoch
run."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.mmpareto import pareto_gradient, pareto_weights
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'mmpareto' / 'mmpareto_resnet18_avdigits.py'
K = 3
GAMMA = 1.5


def conflicting_pairs(n=200, dim=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        a = torch.randn(dim, generator=g) * torch.rand(1, generator=g) * 5
        b = torch.randn(dim, generator=g)
        if a @ b > 0:
            b = -b
        yield a, b


def test_min_norm_direction_helps_both_losses():
    for a, b in conflicting_pairs():
        weights, cos = pareto_weights(a, b)
        assert cos <= 0
        g_hat = weights[0] * a + weights[1] * b
        assert float(g_hat @ a) >= -1e-5 and float(g_hat @ b) >= -1e-5
        # k_0 is the min-norm point of the segment (brute force).
        grid = torch.linspace(0, 1, 2001)
        norms = (grid[:, None] * a + (1 - grid[:, None]) * b).norm(dim=1)
        assert abs(float(weights[0]) - float(grid[norms.argmin()])) < 2e-3
        assert float(weights.sum()) == pytest.approx(1.0)


def test_aligned_gradients_get_equal_weights():
    a = torch.tensor([1.0, 2.0, 0.0])
    weights, cos = pareto_weights(a, torch.tensor([3.0, 0.5, -1.0]))
    assert cos > 0
    assert weights.tolist() == [0.5, 0.5]
    # Nearly opposite gradients: the clip keeps both weights positive.
    weights, _ = pareto_weights(a, -1e-6 * a)
    assert float(weights[0]) == pytest.approx(0.001)


def test_magnitude_rule():
    for a, b in conflicting_pairs(50):
        weights, _ = pareto_weights(a, b)
        g_hat = 2 * (weights[0] * a + weights[1] * b)
        grad = pareto_gradient(a, b, weights, GAMMA)
        assert float(grad.norm()) >= GAMMA * float(g_hat.norm()) - 1e-5
        assert F.cosine_similarity(grad, g_hat, dim=0) > 1 - 1e-5
        g_sum = a + b
        if g_sum.norm() > g_hat.norm():
            assert float(grad.norm()) == pytest.approx(
                GAMMA * float(g_sum.norm()), rel=1e-5)
        else:
            torch.testing.assert_close(grad, GAMMA * g_hat)
    # Aligned: g_hat = g_sum, so the update is gamma * g_sum.
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])
    torch.testing.assert_close(
        pareto_gradient(a, b, torch.tensor([0.5, 0.5]), GAMMA),
        GAMMA * (a + b))


def mlp_model(modalities=('audio', 'visual'), aux_heads=True):
    torch.manual_seed(0)
    encoder = dict(type='MLPEncoder', in_channels=K, out_channels=6,
                   hidden_channels=(5, ))
    return MultimodalClassifier(
        encoders={m: encoder for m in modalities},
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(type='MMParetoBalancer', gamma=GAMMA),
        aux_heads=aux_heads,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(modalities, n=8):
    g = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % K
    inputs = {m: torch.randn(n, K, generator=g) for m in modalities}
    return dict(inputs=inputs,
                data_samples=[DataSample().set_gt_label(int(y))
                              for y in labels]), labels


def expected_encoder_update(model, data, labels, m):
    """MMPareto's gradient of encoder m, from the card, by hand."""
    feats = model.extract_feat(data['inputs'])
    fused = F.cross_entropy(model.fuse(feats), labels)
    uni = F.cross_entropy(model.aux_heads[m](feats[m]), labels)
    params = list(model.encoders[m].parameters())
    g_mm = torch.autograd.grad(fused, params, retain_graph=True)
    g_m = torch.autograd.grad(uni, params)
    flat_mm = torch.cat([g.flatten() for g in g_mm])
    flat_m = torch.cat([g.flatten() for g in g_m])
    if F.cosine_similarity(flat_mm, flat_m, dim=0) > 0:
        k0 = 0.5
    else:
        k0 = float(((flat_m - flat_mm) @ flat_m) /
                   (flat_mm - flat_m).norm() ** 2)
        k0 = min(max(k0, 0.001), 0.999)
    out = []
    for a, b in zip(g_mm, g_m):
        g_hat = 2 * (k0 * a + (1 - k0) * b)
        out.append(GAMMA * max(1.0, float((a + b).norm() / g_hat.norm()))
                   * g_hat)
    return out, k0


@pytest.mark.parametrize('modalities', [('audio', 'visual'),
                                        ('audio', 'visual', 'text')])
def test_train_step_sets_the_pareto_encoder_gradients(modalities):
    model = mlp_model(modalities)
    data, labels = batch(modalities)
    expected = {m: expected_encoder_update(model, data, labels, m)
                for m in modalities}
    # Plain summed-loss gradient for heads and fusion.
    feats = model.extract_feat(data['inputs'])
    total = F.cross_entropy(model.fuse(feats), labels) + sum(
        F.cross_entropy(model.aux_heads[m](feats[m]), labels)
        for m in modalities)
    shared = [model.fusion.fc.weight, model.aux_heads[modalities[-1]].weight]
    plain = torch.autograd.grad(total, shared)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    # lr 1, no momentum: the parameter change is minus the gradient.
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0))
    log_vars = model.train_step(data, optim)
    for m in modalities:
        grads, k0 = expected[m]
        assert float(log_vars[f'mmpareto_k0_{m}']) == pytest.approx(k0,
                                                                     abs=1e-6)
        assert f'mmpareto_cos_{m}' in log_vars and f'loss_uni_{m}' in log_vars
        for (name, p), g in zip(model.encoders[m].named_parameters(), grads):
            step = before[f'encoders.{m}.{name}'] - p.detach()
            torch.testing.assert_close(step, g, rtol=1e-4, atol=1e-6)
    names = ['fusion.fc.weight', f'aux_heads.{modalities[-1]}.weight']
    for name, p, g in zip(names, shared, plain):
        torch.testing.assert_close(before[name] - p.detach(), g, rtol=1e-4,
                                   atol=1e-6)
    # The unimodal heads are trained; the detached auxiliary loss is gone.
    assert 'loss_aux' not in log_vars
    for m in modalities:
        assert not torch.equal(before[f'aux_heads.{m}.weight'],
                               model.aux_heads[m].weight)


def test_conflicting_step_logs_min_norm_weights():
    # Unimodal heads that mirror the fused head's block: the fused and the
    # unimodal losses pull the encoders in opposite directions.
    model = mlp_model()
    data, _ = batch(model.modalities, n=30)
    blocks = model.fusion.fc.weight.split(6, dim=1)
    with torch.no_grad():
        for m, block in zip(model.modalities, blocks):
            model.aux_heads[m].weight.copy_(-block)
            model.aux_heads[m].bias.zero_()
    log_vars = model.train_step(
        data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0)))
    assert float(log_vars['mmpareto_cos_audio']) < 0
    assert float(log_vars['mmpareto_k0_audio']) != 0.5


def test_needs_unimodal_heads():
    model = mlp_model(aux_heads=False)
    data, _ = batch(model.modalities)
    with pytest.raises(ValueError, match='aux_heads=True'):
        model.loss(**data)


def test_two_epoch_training(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root))
    rows = load_scalars(tmp_path)
    steps = [r for r in rows if 'mmpareto_cos_audio' in r]
    assert len(steps) == 8  # 2 epochs of 4 batches, logged every step
    for r in steps:
        for m in ('audio', 'visual'):
            assert -1 <= r[f'mmpareto_cos_{m}'] <= 1
            assert 0.001 <= r[f'mmpareto_k0_{m}'] <= 0.999
            assert r[f'mmpareto_cos_{m}'] <= 0 or \
                r[f'mmpareto_k0_{m}'] == 0.5
            assert r[f'loss_uni_{m}'] > 0
    assert any('accuracy/top1' in r for r in rows)
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert state['aux_heads.audio.weight'].shape == (10, 32)

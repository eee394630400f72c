"""G-Blending: the weights' formula on synthetic loss curves, the blended
loss, the separate heads' gradient, the refusals, and a two-epoch run whose
trials leave the live model, optimiser and random streams untouched."""
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.gblend import GBlendHook, blend_weights
from armlab.models import MultimodalClassifier

CONFIG = REPO / 'configs' / 'gblend' / 'gblend_resnet18_avdigits.py'
K = 4


def make_model(heads='separate', aux_heads=True):
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders={m: dict(type='MLPEncoder', in_channels=K, out_channels=6,
                          hidden_channels=(8, )) for m in ('audio', 'visual')},
        fusion=dict(type='ConcatFusion'), num_classes=K, aux_heads=aux_heads,
        balancer=dict(type='GBlendBalancer', heads=heads),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(n=16):
    torch.manual_seed(1)
    return {m: torch.randn(n, K) for m in ('audio', 'visual')}, \
        torch.arange(n) % K


def val(t):
    return float(t.detach())


def samples(labels):
    return [DataSample().set_gt_label(int(v)) for v in labels]


def test_weights_follow_the_generalisation_over_squared_overfitting():
    # (L_T, L_V) at N and after each variant's trial.
    before = np.array([[1.0, 1.2], [1.0, 1.2], [1.0, 1.2]])
    after = np.array([[0.8, 1.1],    # dG 0.1, dO 0.3 - 0.2 = 0.1 -> 10
                      [0.5, 1.0],    # dG 0.2, dO 0.5 - 0.2 = 0.3 -> 2.22
                      [0.9, 1.25]])  # dG < 0: its held-out loss rose -> 0
    w = blend_weights(before, after)
    raw = np.array([0.1 / 0.1 ** 2, 0.2 / 0.3 ** 2, 0.0])
    np.testing.assert_allclose(w, raw / raw.sum(), rtol=1e-9)
    assert w.sum() == pytest.approx(1.0)
    # Same generalisation, more overfitting: a smaller weight.
    more = after.copy()
    more[0, 0] = 0.7
    assert blend_weights(before, more)[0] < w[0]
    # Nothing generalises: uniform, not a division by zero.
    np.testing.assert_allclose(blend_weights(before, before + [0, 0.1]),
                               np.full(3, 1 / 3))


def test_multibench_rule_reads_the_held_out_loss_over_the_final_gap():
    before = np.zeros((2, 2))
    after = np.array([[0.5, 1.0], [0.9, 0.8]])  # O = 0.5, and < 0 -> eps
    raw = np.array([1.0 / 0.5 ** 2, 0.8 / 1e-4 ** 2])
    np.testing.assert_allclose(blend_weights(before, after, 'multibench'),
                               raw / raw.sum())
    with pytest.raises(ValueError, match='rule'):
        blend_weights(before, after, 'ogr')
    with pytest.raises(ValueError, match=r'\(K, 2\)'):
        blend_weights(before[:, :1], after[:, :1])


def test_loss_is_the_blend_of_the_fused_and_the_separate_heads():
    model = make_model()
    model.balancer.set_weights([0.2, 0.5, 0.3])
    inputs, y = batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    feats = model.extract_feat(inputs)
    expect = {'loss_cls': 0.3 * F.cross_entropy(model.fuse(feats), y)}
    for w, m in zip((0.2, 0.5), ('audio', 'visual')):
        expect[f'loss_{m}'] = w * F.cross_entropy(model.aux_heads[m](feats[m]),
                                                  y)
    for key, value in expect.items():
        assert val(losses[key]) == pytest.approx(val(value), rel=1e-5)
    # The separate heads are trained by the blend, not by the detached
    # auxiliary loss: their gradient reaches the encoder.
    assert 'loss_aux' not in losses
    model.zero_grad()
    losses['loss_audio'].backward()
    assert model.encoders['audio'].parameters().__next__().grad.abs().sum() > 0
    assert model.encoders['visual'].parameters().__next__().grad is None


def test_uniform_before_the_first_estimate_and_masked_heads():
    model = make_model(heads='masked', aux_heads=False)
    inputs, y = batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    assert val(losses['gblend_weight_fused']) == pytest.approx(1 / 3)
    feats = model.extract_feat(inputs)
    masked = model.masked_logits(feats, [('visual', )])[('visual', )]
    assert val(losses['loss_visual']) == pytest.approx(
        val(F.cross_entropy(masked, y) / 3), rel=1e-5)


def test_refusals():
    inputs, y = batch()
    model = make_model(aux_heads=False)
    model.train()
    with pytest.raises(ValueError, match='aux_heads=True'):
        model.loss(inputs, samples(y))
    with pytest.raises(ValueError, match='heads'):
        make_model(heads='shared')
    for bad in (dict(super_epoch=0), dict(rule='x'),
                dict(train_fraction=0), dict(trial_epochs=0)):
        with pytest.raises(ValueError):
            GBlendHook(**bad)


def test_two_epoch_run_trials_leave_the_live_state_untouched(tiny_root,
                                                              tmp_path):
    """super_epoch=1: an estimate before each epoch; around each, the model,
    the optimiser and the random streams are as before it."""
    checks = []
    original = GBlendHook.before_train_epoch

    def checked(hook, runner):
        model = runner.model
        params = {k: v.clone() for k, v in model.state_dict().items()
                  if 'blend_weights' not in k}
        optim = repr(runner.optim_wrapper.state_dict()['state'])
        rng = torch.get_rng_state().clone()
        original(hook, runner)
        same = all(torch.equal(v, model.state_dict()[k])
                   for k, v in params.items())
        checks.append((same, optim == repr(
            runner.optim_wrapper.state_dict()['state']),
            torch.equal(rng, torch.get_rng_state()),
            model.balancer.blend_weights.tolist()))

    with mock.patch.object(GBlendHook, 'before_train_epoch', checked):
        train_in_process(CONFIG, tmp_path, '--cfg-options',
                         *tiny_options(tiny_root),
                         'train_dataloader.dataset.holdout.fraction=0.25',
                         'custom_hooks.0.super_epoch=1')
    assert len(checks) == 2
    for same_model, same_optim, same_rng, weights in checks:
        assert same_model and same_optim and same_rng
        assert len(weights) == 3 and sum(weights) == pytest.approx(1.0)
    ckpt = torch.load(tmp_path / 'epoch_2.pth', weights_only=False)
    assert ckpt['state_dict']['balancer.blend_weights'].tolist() == \
        pytest.approx(checks[-1][3])
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'G-Blending weights before epoch 1: audio' in log

"""MLA: alternating unimodal steps through a shared head, OWM projection of
the head gradient, test-time entropy fusion; and a 2-epoch run."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from conftest import REPO, tiny_options, train_in_process
from helpers.vector_batches import ENCODERS, D, K
from helpers.vector_batches import vector_batch as batch

from armlab.balancers.mla import MLABalancer, MLAHook, owm_update
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import epoch_series, iter_series, load_scalars

def tiny_model(fusion='SharedHeadFusion', **balancer):
    torch.manual_seed(0)
    model = MultimodalClassifier(
        encoders=ENCODERS,
        fusion=dict(type=fusion),
        num_classes=K,
        balancer=dict(type='MLABalancer', **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    model.balancer.epoch_length = 4  # as a run of 4 batches per epoch
    return model


class SpyOptimWrapper(OptimWrapper):
    """Records, at every step, which parameters have a gradient."""

    def __init__(self, model):
        super().__init__(torch.optim.SGD(model.parameters(), lr=0.1,
                                         momentum=0.9, weight_decay=1e-3))
        self.named = dict(model.named_parameters())
        self.steps = []

    def step(self, **kwargs):
        self.steps.append({n for n, p in self.named.items()
                           if p.grad is not None})
        super().step(**kwargs)


def test_owm_update_removes_the_direction_and_normalises():
    r = torch.tensor([1.0, 2.0, -1.0, 0.5])
    p = owm_update(torch.eye(4), r, alpha=1e-3)
    assert torch.linalg.matrix_norm(p) == pytest.approx(1.0)
    torch.testing.assert_close(p, p.t())
    # P r = alpha / (alpha + r^T r) * r, then normalised.
    before = torch.linalg.matrix_norm(
        torch.eye(4) - torch.outer(r, r) / (1e-3 + r @ r))
    expected = 1e-3 / (1e-3 + r @ r) * r / before
    torch.testing.assert_close(p @ r, expected)
    # Directions orthogonal to r pass through (up to the normalisation).
    u = torch.tensor([2.0, -1.0, 0.0, 0.0])
    torch.testing.assert_close(p @ u, u / before)
    parity = owm_update(torch.eye(4), r, alpha=1e-3, code_parity=True)
    assert not torch.allclose(parity, p)


def test_projected_head_gradient_ignores_the_stored_direction():
    balancer = MLABalancer(alpha=1e-4)
    balancer.epoch_length = 4
    weight = torch.nn.Parameter(torch.zeros(K, D))
    g = torch.Generator().manual_seed(0)
    grad = torch.randn(K, D, generator=g)
    inputs = torch.rand(6, D, generator=g) + 0.5
    r = inputs.mean(0)
    # The very first step keeps the gradient and P = I.
    weight.grad = grad.clone()
    balancer.project_head_gradient(weight, inputs)
    torch.testing.assert_close(weight.grad, grad)
    torch.testing.assert_close(balancer.projector, torch.eye(D))
    # Later steps learn r first, then project: grad P^T barely acts on r.
    weight.grad = grad.clone()
    balancer.project_head_gradient(weight, inputs)
    assert (grad @ r).norm() > 1.0
    assert (weight.grad @ r).norm() < 1e-3 * (grad @ r).norm()
    torch.testing.assert_close(weight.grad, grad @ balancer.projector.t())
    assert torch.linalg.matrix_norm(balancer.projector) == \
        pytest.approx(1.0)
    assert int(balancer.num_steps) == 2


def test_train_step_alternates_modalities_with_one_step_each():
    model = tiny_model(projection=True)
    wrapper = SpyOptimWrapper(model)
    encoder = {m: {n for n in wrapper.named if n.startswith(f'encoders.{m}')}
               for m in model.modalities}
    log = model.train_step(batch(), wrapper)
    assert len(wrapper.steps) == 2  # M optimiser steps per batch
    for active, stepped in zip(('audio', 'visual'), wrapper.steps):
        other = 'visual' if active == 'audio' else 'audio'
        assert encoder[active] <= stepped
        assert not stepped & encoder[other]
        assert {'fusion.fc.weight', 'fusion.fc.bias'} <= stepped
    assert set(log) == {'loss', 'mla_loss_audio', 'mla_loss_visual'}
    torch.testing.assert_close(log['loss'], log['mla_loss_audio'] +
                               log['mla_loss_visual'])
    assert model.balancer.projector.shape == (D, D)
    assert torch.linalg.matrix_norm(model.balancer.projector) == \
        pytest.approx(1.0)
    assert int(model.balancer.num_steps) == 2


def test_train_step_uses_the_unimodal_head_loss():
    model = tiny_model(projection=False)
    data = batch()
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
    labels = torch.tensor([i % K for i in range(6)])
    expected = torch.nn.functional.cross_entropy(
        model.fusion.head(feats['audio']), labels)
    log = model.train_step(data, SpyOptimWrapper(model))
    torch.testing.assert_close(log['mla_loss_audio'], expected)
    assert model.balancer.projector.numel() == 0  # never used


def test_defaults_are_the_released_codes_no_projection_and_entropy():
    """The released code never projects (its name gate misses a bare linear
    head), so the class and the method config leave the projection off."""
    from mmengine.config import Config
    assert MLABalancer().projection is False
    cfg = Config.fromfile(REPO / 'configs' / '_base_' / 'methods' / 'mla.py')
    assert cfg.mla_model.balancer.projection is False
    assert cfg.mla_model.balancer.inference == 'entropy'
    assert MLABalancer(inference='entropy_batch').inference == \
        'entropy_batch'


def test_requirements_are_checked():
    with pytest.raises(TypeError, match='SharedHeadFusion'):
        model = tiny_model(fusion='ConcatFusion')
        model.train_step(batch(), SpyOptimWrapper(model))
    model = tiny_model(projection=True)
    model.balancer.epoch_length = None  # and no run in the message hub:
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', None)
    with pytest.raises(RuntimeError, match='epoch length'):
        model.train_step(batch(), SpyOptimWrapper(model))
    with pytest.raises(ValueError, match='fixed_weights'):
        MLABalancer(inference='fixed')


def test_hook_sets_inference_and_the_epoch_length_is_the_runs():
    model = tiny_model(inference='fixed',
                       fixed_weights=dict(audio=0.3, visual=0.7))
    runner = SimpleNamespace(model=model, train_dataloader=[0] * 7)
    assert model.fusion.combine == 'sum'
    MLAHook().before_run(runner)
    assert model.fusion.combine == 'fixed'
    assert model.fusion.fixed_weights == (0.3, 0.7)
    # alpha_t's epoch length: what RuntimeInfoHook records, 21 / 3 = 7.
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 21)
    hub.update_info('max_epochs', 3)
    hub.update_info('iter', 10)  # batch 3 of epoch 1
    model.balancer.epoch_length = None
    assert model.balancer.alpha_t() == pytest.approx(
        model.balancer.alpha ** (1 + 3 / 7))
    hub.update_info('max_iters', None)
    hub.update_info('iter', 0)
    with pytest.raises(TypeError, match='MLABalancer'):
        MLAHook().before_run(SimpleNamespace(model=SimpleNamespace(
            balancer=None)))


def test_projector_is_saved_and_restored():
    model = tiny_model(projection=True)
    model.train_step(batch(), SpyOptimWrapper(model))
    fresh = tiny_model(projection=True)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh.balancer.projector,
                               model.balancer.projector)
    assert int(fresh.balancer.num_steps) == 2


def test_mla_trains_end_to_end(tiny_root, tmp_path):
    config = REPO / 'configs' / 'mla' / 'mla_resnet18_avdigits.py'
    train_in_process(config, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root),
                     'model.balancer.projection=True')
    rows = load_scalars(tmp_path)
    steps, losses = iter_series(rows, 'mla_loss_visual')
    assert len(steps) == 8 and all(v > 0 for v in losses)  # 4 batches x 2
    epochs, acc = epoch_series(rows, 'accuracy/top1')
    assert epochs == [1, 2]
    assert epoch_series(rows, 'acc_audio_mask')[0] == [1, 2]
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    projector = state['balancer.projector']
    assert projector.shape == (32, 32)  # width-4 ResNet-18 features
    assert torch.linalg.matrix_norm(projector) == pytest.approx(1.0)
    assert int(state['balancer.num_steps']) == 16  # 2 epochs x 4 x M

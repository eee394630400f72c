"""AGM: gradient-scaled response branches, Shapley responses, frozen BN in
the masked passes, coefficients, the clipping rule, and a two-epoch run
through tools/train.py."""
import copy
import math
from itertools import combinations

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from torch import nn

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.agm import (agm_coefficients, clip_if_head_exceeds,
                                  scale_gradient, shapley_responses)
from armlab.registry import MODELS
from armlab.utils.scalars import epoch_series, load_scalars

CONFIG = REPO / 'configs' / 'agm' / 'agm_resnet18_avdigits.py'
NUM_CLASSES = 4
CHANNELS = dict(audio=1, visual=3, depth=1)
AV = ('audio', 'visual')


class TinyConv(nn.Module):
    """conv-BN-ReLU-pool: a small encoder with BN statistics."""

    def __init__(self, in_channels: int = 1, out_channels: int = 8):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out_channels = out_channels

    def forward(self, x):
        return self.layers(x)


class CountingWrapper(nn.Module):
    """Stands for a distributed wrapper: the forward the step must use."""

    def __init__(self, module):
        super().__init__()
        self.module = module
        self.calls = 0

    def forward(self, **kwargs):
        self.calls += 1
        return self.module(**kwargs)


def tiny_model(modalities=AV, **balancer):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MultimodalClassifier',
        encoders={m: dict(type=TinyConv, in_channels=CHANNELS[m])
                  for m in modalities},
        fusion=dict(type='ConcatFusion'), num_classes=NUM_CLASSES,
        balancer=dict(type='AGMBalancer', **balancer),
        data_preprocessor=dict(type='MultimodalDataPreprocessor',
                               modalities={m: dict() for m in modalities})))


def batch(modalities=AV, size=8):
    torch.manual_seed(1)
    return dict(
        inputs={m: torch.randn(size, CHANNELS[m], 5, 5) + 1
                for m in modalities},
        data_samples=[DataSample().set_gt_label(i % NUM_CLASSES)
                      for i in range(size)])


def bn_state(model):
    return {k: v.clone() for k, v in model.state_dict().items()
            if 'running_' in k or 'num_batches_tracked' in k}


def test_hooks_scale_the_gradient_of_each_response():
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 2, 3])
    k = dict(audio=2.5, visual=0.4)

    def branch_grads(coeffs):
        o = {m: torch.randn(4, NUM_CLASSES, generator=torch.Generator()
                            .manual_seed(i)).requires_grad_()
             for i, m in enumerate(AV)}
        z = sum(scale_gradient(o[m], coeffs[m]) for m in AV)
        F.cross_entropy(z, labels).backward()
        return {m: o[m].grad for m in AV}

    scaled = branch_grads(k)
    plain = branch_grads(dict(audio=1.0, visual=1.0))
    for m in AV:
        torch.testing.assert_close(scaled[m], k[m] * plain[m])


def test_full_pass_gets_the_mean_and_masked_passes_the_difference():
    """Card step 4: f(a,v) gets (k_a + k_v) / 2, f(a,0) and f(0,v) get
    +-(k_a - k_v) / 2 of the plain cross-entropy gradient."""
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 2])
    f = {s: torch.randn(3, NUM_CLASSES).requires_grad_()
         for s in [('audio', ), ('visual', ), AV]}
    o = shapley_responses(f, AV)
    k_a, k_v = 3.0, 0.5
    fused = scale_gradient(o['audio'], k_a) + scale_gradient(o['visual'], k_v)
    F.cross_entropy(fused, labels).backward()
    g = (F.softmax(f[AV], 1) - F.one_hot(labels, NUM_CLASSES)) / 3
    torch.testing.assert_close(f[AV].grad, (k_a + k_v) / 2 * g)
    torch.testing.assert_close(f[('audio', )].grad, (k_a - k_v) / 2 * g)
    torch.testing.assert_close(f[('visual', )].grad, (k_v - k_a) / 2 * g)


def test_responses_sum_to_the_fused_logits():
    model = tiny_model()
    data = model.data_preprocessor(batch(), True)
    _, logits, o = model.balancer.responses(model, model, data)
    full = logits[AV]
    torch.testing.assert_close(o['audio'] + o['visual'], full)
    torch.testing.assert_close(
        o['audio'],
        (full - logits[('visual', )] + logits[('audio', )]) / 2)
    assert () not in logits  # f(0,0) is not computed when not subtracted
    model = tiny_model(subtract_empty=True)
    _, logits, o = model.balancer.responses(model, model, data)
    torch.testing.assert_close(o['audio'] + o['visual'],
                               logits[AV] - logits[()])


def test_three_modality_responses_are_shapley_values():
    mods = ('audio', 'visual', 'depth')
    # A game with known Shapley values: f(S) = sum_{m in S} c_m + pair term
    # shared equally, so o_m = c_m + 1/2 of each pair term it is part of.
    c = dict(audio=1.0, visual=2.0, depth=4.0)
    logits = {}
    for size in (1, 2, 3):
        for s in combinations(mods, size):
            bonus = 10.0 if {'audio', 'visual'} <= set(s) else 0.0
            logits[s] = torch.tensor([[sum(c[m] for m in s) + bonus]])
    o = shapley_responses(logits, mods)
    assert o['audio'].item() == pytest.approx(6.0)
    assert o['visual'].item() == pytest.approx(7.0)
    assert o['depth'].item() == pytest.approx(4.0)


def test_step_freezes_bn_in_masked_passes_and_restores_train_mode():
    model = tiny_model()
    reference = copy.deepcopy(model)
    wrapper = CountingWrapper(model)
    calls = []
    preprocess = model.data_preprocessor.forward
    model.data_preprocessor.forward = \
        lambda *a, **kw: calls.append(1) or preprocess(*a, **kw)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.balancer.train_step(model, batch(), optim, forward=wrapper)
    assert len(calls) == 1 and wrapper.calls == 3
    assert model.training and all(m.training for m in model.modules())
    # Only the train-mode full pass updated the BN statistics.
    with torch.no_grad():
        reference(**reference.data_preprocessor(batch(), True))
    after = bn_state(model)
    for key, value in bn_state(reference).items():
        torch.testing.assert_close(after[key], value, msg=key)
    assert log['agm_coeff_audio'].item() == 1.0  # no history yet
    assert {'agm_score_audio', 'agm_score_visual', 'agm_clipped',
            'loss_cls'} <= set(log)


def test_coefficient_above_one_for_the_modality_that_fell_behind():
    model = tiny_model(alpha=1.5)
    balancer = model.balancer
    assert balancer.update_coefficients(
        torch.tensor([0.5, 2.0])).tolist() == [1.0, 1.0]
    # Audio's loss score rose (it fell behind): its dominance
    # r_a = exp(s_v - s_a) dropped below the running mean.
    k = balancer.update_coefficients(torch.tensor([1.0, 2.0]))
    assert k[0] > 1 > k[1]
    assert k[0].item() == pytest.approx(
        math.exp(1.5 * (math.exp(1.5) - math.exp(1.0))), rel=1e-5)
    assert balancer.mean_scores.tolist() == pytest.approx([0.75, 2.0])
    assert int(balancer.num_updates) == 2
    # The exponent is clamped at 10.
    k = agm_coefficients(torch.tensor([30.0, 0.0]), torch.tensor([0.0, 30.0]),
                         alpha=0.1)
    assert k[0].item() == pytest.approx(math.exp(1.0), rel=1e-5)
    # The running means survive a checkpoint into a fresh balancer.
    fresh = tiny_model().balancer
    fresh.load_state_dict(balancer.state_dict())
    assert fresh.mean_scores.tolist() == pytest.approx([0.75, 2.0])


def test_clipping_rule():
    model = tiny_model()
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    assert not clip_if_head_exceeds(model, model.fusion)
    # The official rule reads the head's weight only, not its bias.
    model.fusion.fc.bias.grad[0] = 3.0
    assert not clip_if_head_exceeds(model, model.fusion)
    model.fusion.fc.weight.grad[0, 0] = 3.0
    assert clip_if_head_exceeds(model, model.fusion)
    norm = torch.stack([p.grad.norm() for p in model.parameters()]).norm()
    assert norm.item() == pytest.approx(1.0, rel=1e-4)


def test_three_modality_step_and_one_modality_error():
    mods = ('audio', 'visual', 'depth')
    model = tiny_model(mods)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(2):
        log = model.balancer.train_step(model, batch(mods), optim)
    assert all(torch.isfinite(log[f'agm_coeff_{m}']) for m in mods)
    with pytest.raises(ValueError, match='two or more modalities'):
        model = tiny_model(('audio', ))
        model.balancer.train_step(model, batch(('audio', )), optim)


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root))
    rows = load_scalars(tmp_path)
    steps = [r for r in rows if 'agm_coeff_audio' in r]
    assert len(steps) == 8  # 2 epochs x 4 iterations, logged every one
    assert all(r['agm_coeff_visual'] > 0 and r['agm_score_audio'] > 0
               for r in steps)
    assert epoch_series(rows, 'accuracy/top1')[0] == [1, 2]
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert int(state['balancer.num_updates']) == 8
    assert state['balancer.mean_scores'].shape == (2, )

"""LFM: the code's label-weight polynomial, the Jensen-Shannon term, the
loss against its formula, the joint-training limit, the learned schedule's
hypergradient (against finite differences) and clipped step, the refusals,
and two-epoch runs through tools/train.py."""
import math
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.lfm import LFMHook, js_divergence, poly_label_weight
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'lfm' / 'lfm_resnet18_avdigits.py'
LEARNED = REPO / 'configs' / 'lfm' / 'lfm-learned_resnet18_avdigits.py'
K = 4


@pytest.fixture(autouse=True)
def hub_at():
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 3)
    hub.update_info('max_epochs', 8)
    yield hub
    hub.update_info('epoch', 0)
    hub.runtime_info.pop('max_epochs', None)


def make_model(modalities=('audio', 'visual'), fusion='SumFusion',
               **balancer):
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders={m: dict(type='MLPEncoder', in_channels=K, out_channels=6,
                          hidden_channels=(8, )) for m in modalities},
        fusion=dict(type=fusion), num_classes=K,
        balancer=dict(dict(type='LFMBalancer'), **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(n=16, modalities=('audio', 'visual')):
    torch.manual_seed(1)
    y = torch.arange(n) % K
    return {m: torch.randn(n, K) for m in modalities}, y


def samples(labels):
    return [DataSample().set_gt_label(int(v)) for v in labels]


def val(t):
    return float(t.detach())


def test_the_polynomial_is_the_codes_table():
    table = {0: 0.205, 20: 0.301, 60: 0.464, 100: 0.539, 150: 0.821,
             180: 1.008, 199: 0.916}
    for epoch, alpha in table.items():
        assert poly_label_weight(epoch) == pytest.approx(alpha, abs=6e-4)


def test_js_is_symmetric_zero_on_equal_rows_and_at_most_log_2():
    torch.manual_seed(0)
    p = torch.randn(8, K).softmax(1)
    q = torch.randn(8, K).softmax(1)
    assert val(js_divergence(p, q)) == pytest.approx(val(js_divergence(q, p)))
    assert val(js_divergence(p, p)) == pytest.approx(0.0, abs=1e-6)
    disjoint = torch.eye(K)[:2], torch.eye(K)[2:]
    assert val(js_divergence(*disjoint)) == pytest.approx(math.log(2),
                                                          rel=1e-4)


def test_loss_is_the_weighted_mean_head_ce_and_pairwise_js():
    mods = ('audio', 'visual', 'text')
    model = make_model(mods)
    inputs, y = batch(modalities=mods)
    model.train()
    losses = model.loss(inputs, samples(y))
    a1 = poly_label_weight(3 * 200 / 8)  # epoch 3 of 8 on the 200-epoch axis
    assert val(losses['lfm_label_weight']) == pytest.approx(a1, rel=1e-5)
    feats = model.extract_feat(inputs)
    z = {m: model.fusion.heads[m](feats[m]) for m in mods}
    mean = sum(z.values()) / 3
    p = {m: v.softmax(1) for m, v in z.items()}
    js = (js_divergence(p['audio'], p['visual']) +
          js_divergence(p['audio'], p['text']) +
          js_divergence(p['visual'], p['text'])) / 3
    assert val(losses['loss_cls']) == pytest.approx(
        val(2 * a1 * F.cross_entropy(mean, y)), rel=1e-5)
    assert val(losses['loss_align']) == pytest.approx(val(2 * (1 - a1) * js),
                                                      rel=1e-5)


def test_label_weight_one_is_joint_training_of_the_averaging_head():
    model = make_model(schedule='fixed', label_weight=1.0)
    inputs, y = batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    assert val(losses['loss_align']) == 0.0
    fused = model(inputs, mode='tensor')
    assert val(losses['loss_cls']) == pytest.approx(
        val(2 * F.cross_entropy(fused / 2, y)), rel=1e-5)
    # The prediction is the argmax of the heads' sum, i.e. of their mean.
    model.eval()
    pred = model.predict(inputs, samples(y))
    assert [int(s.pred_label) for s in pred] == fused.argmax(1).tolist()


def test_refuses_a_fusion_without_separate_heads_and_bad_options():
    model = make_model(fusion='ConcatFusion')
    inputs, y = batch()
    model.train()
    with pytest.raises(ValueError, match='SumFusion'):
        model.loss(inputs, samples(y))
    with pytest.raises(ValueError, match='schedule'):
        make_model(schedule='cosine')
    with pytest.raises(ValueError, match='align_weight'):
        make_model(schedule='learned', align_weight_init=0.99)
    with pytest.raises(ValueError, match='num_samples'):
        LFMHook(num_samples=0)
    learned = make_model(schedule='learned')
    learned.train()
    with pytest.raises(KeyError, match='LFMHook'):
        learned.loss(inputs, samples(y))
    with pytest.raises(ValueError, match='label_weight'):
        make_model(schedule='fixed', label_weight=1.5)


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    weights = sorted({round(r['lfm_label_weight'], 6)
                      for r in load_scalars(tmp_path)
                      if 'lfm_label_weight' in r})
    # Epochs 0 and 1 of 2 read the polynomial at 0 and 100.
    assert weights == pytest.approx([poly_label_weight(0),
                                     poly_label_weight(100)], rel=1e-4)


def preprocessed(n=8):
    inputs, y = batch(n)
    return dict(inputs=inputs, data_samples=samples(y))


def first_tensor_hvp_by_differences(model, data, a2, eps=1e-3):
    """The first tensor's block of H(L) grad(L_cls) by central differences
    of grad(L) along v = grad(L_cls), in float64."""
    params = [p for p in model.parameters() if p.requires_grad]
    balancer = model.balancer

    def grads(weight_of_cls):
        feats = model.extract_feat(data['inputs'])
        cls, align = balancer.terms(model, feats, model.fuse(feats),
                                    balancer.labels(data['data_samples']))
        loss = cls if weight_of_cls is None else \
            2 * ((1 - a2) * cls + a2 * align)
        return torch.autograd.grad(loss, params, allow_unused=True)

    v = [g if g is not None else torch.zeros_like(p)
         for g, p in zip(grads(None), params)]
    with torch.no_grad():
        for p, d in zip(params, v):
            p.add_(eps * d)
    plus = grads(True)[0]
    with torch.no_grad():
        for p, d in zip(params, v):
            p.sub_(2 * eps * d)
    minus = grads(True)[0]
    with torch.no_grad():
        for p, d in zip(params, v):
            p.add_(eps * d)
    return (plus - minus) / (2 * eps)


def test_learned_hypergradient_is_the_first_tensors_hessian_vector_product():
    model = make_model(schedule='learned').double()
    model.eval()
    data = preprocessed()
    data['inputs'] = {m: x.double() for m, x in data['inputs'].items()}
    g = model.balancer.hypergradient(model, data)
    expected = first_tensor_hvp_by_differences(model, data, 0.95).mean()
    # the JS term is computed in float32: differences agree to about 1e-3
    assert g == pytest.approx(float(expected), rel=1e-2)
    assert g != 0.0


def test_learned_step_descends_clips_and_halves_its_rate(monkeypatch):
    model = make_model(schedule='learned', align_weight_init=0.5,
                       hyper_lr=0.1)
    balancer = model.balancer
    assert balancer.alpha(3, 8) == pytest.approx(0.5)
    monkeypatch.setattr(balancer, 'hypergradient', lambda *a: 2.0)
    info = balancer.learn_step(model, {}, epoch=0, max_epochs=200)
    assert info['align_weight'] == pytest.approx(0.5 - 0.1 * 2.0)
    assert balancer.alpha(1, 200) == pytest.approx(0.7)  # alpha_1 = 1 - a2
    # eta halves every 20 epochs of the code's 200 (epoch 3 of 8 = 75)
    assert balancer.hyper_lr_at(3, 8) == pytest.approx(0.1 / 8)
    monkeypatch.setattr(balancer, 'hypergradient', lambda *a: -100.0)
    balancer.learn_step(model, {}, epoch=0, max_epochs=200)
    assert float(balancer.align_weight) == pytest.approx(0.95)  # the clip
    monkeypatch.setattr(balancer, 'hypergradient', lambda *a: 100.0)
    balancer.learn_step(model, {}, epoch=0, max_epochs=200)
    assert float(balancer.align_weight) == pytest.approx(0.05)


def test_learned_two_epoch_run(tiny_root, tmp_path):
    train_in_process(LEARNED, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root),
                     'train_dataloader.dataset.holdout.fraction=0.2')
    log = next(tmp_path.glob('*/*.log')).read_text()
    steps = [float(v) for v in re.findall(
        r'LFM epoch \d: hypergradient \S+, eta \S+, alpha_2 -> (\S+)', log)]
    assert len(steps) == 2 and all(0.05 <= v <= 0.95 for v in steps)
    # epoch 0 trains with alpha_1 = 1 - 0.95, epoch 1 with 1 - the step's a2
    weights = [round(r['lfm_label_weight'], 5)
               for r in load_scalars(tmp_path) if 'lfm_label_weight' in r]
    assert sorted(set(weights)) == sorted({round(0.05, 5),
                                           round(1 - steps[0], 5)})
    state = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert float(state['balancer.align_weight']) == pytest.approx(
        steps[1], abs=1e-6)

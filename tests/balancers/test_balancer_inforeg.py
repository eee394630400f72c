"""InfoReg: the gaps, the window rules, the proximal gradient, the trace,
the batch-size independence of the scores, and a two-epoch run through
tools/train.py whose trace history survives in the checkpoint."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.inforeg import score_gaps, window_open
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'inforeg' / 'inforeg_resnet18_avdigits.py'
K = 4


def make_model(modalities=('audio', 'visual'), **balancer):
    torch.manual_seed(0)
    encoders = {m: dict(type='MLPEncoder', in_channels=K, out_channels=6,
                        hidden_channels=(8, )) for m in modalities}
    return MultimodalClassifier(
        encoders=encoders, fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(dict(type='InfoRegBalancer'), **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(n=32, modalities=('audio', 'visual'), clean=(3.0, 0.3)):
    """Each modality a one-hot of the label times its ``clean`` strength,
    plus unit noise beyond the first: the first modality is ahead."""
    torch.manual_seed(1)
    y = torch.arange(n) % K
    onehot = F.one_hot(y, K).float()
    inputs = {m: onehot * c + (0.1 if i == 0 else 1.0) * torch.randn(n, K)
              for i, (m, c) in enumerate(zip(modalities, clean))}
    return inputs, y


def val(t):
    return float(t.detach())


def samples(labels):
    return [DataSample().set_gt_label(int(v)) for v in labels]


def warm_up(model, inputs, y, steps=30):
    """A few plain joint steps, so that the scores differ."""
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        logits = model(inputs, mode='tensor')
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_gaps_are_the_mean_lead_over_the_modalities_below():
    gaps = score_gaps(torch.tensor([0.9, 0.5, 0.3]))
    assert gaps.tolist() == pytest.approx([0.5, 0.2, 0.0])
    assert score_gaps(torch.tensor([0.4, 0.4])).tolist() == [0.0, 0.0]


def test_window_rules_on_synthetic_traces():
    # The paper: closed in epochs 0 and 1, then open while the trace grows
    # by more than K of its last value, per modality.
    assert window_open([], 2, 0.04) == [False, False]
    assert window_open([[1.0, 1.0]], 2, 0.04) == [False, False]
    assert window_open([[1.0, 1.0], [2.0, 1.03]], 2, 0.04) == [True, False]
    assert window_open([[2.0, 1.0], [2.05, 3.0]], 2, 0.04) == [False, True]
    assert window_open([[2.0, 2.0], [1.0, 1.0]], 2, 0.04) == [False, False]
    # The code: open in epoch 0; one flag from the first modality's trace
    # against its value 10 epochs back (zeros before the run) over the sum
    # of the last 10 epochs.
    assert window_open([], 2, 0.05, rule='code') == [True, True]
    assert window_open([[1.0, 9.0]], 2, 0.05, rule='code') == [True, True]
    flat = [[1.0, 9.0]] * 11
    assert window_open(flat, 2, 0.05, rule='code') == [False, False]
    rising = [[float(i + 1), 0.0] for i in range(11)]
    k = (11 - 1) / sum(range(2, 12))
    assert window_open(rising, 2, k - 1e-6, rule='code') == [True, True]
    assert window_open(rising, 2, k + 1e-6, rule='code') == [False, False]
    with pytest.raises(ValueError, match='window rule'):
        window_open([], 2, 0.04, rule='nope')


def test_the_proximal_gradient_is_alpha_times_the_drift_of_the_leader():
    model = make_model()
    inputs, y = batch()
    warm_up(model, inputs, y)
    model.train()
    bal = model.balancer
    bal.start_epoch(model)
    bal._open = {'audio': True, 'visual': True}
    # At the first step of an epoch the parameters are the snapshot: no
    # pull.
    losses = model.loss(inputs, samples(y))
    assert val(losses['loss_inforeg_audio']) == 0.0
    assert 'loss_inforeg_visual' not in losses  # the weakest is never pulled
    gap = val(losses['inforeg_gap_audio'])
    assert gap > 0 and val(losses['inforeg_gap_visual']) == 0.0
    # Move the audio encoder; the penalty's gradient is alpha (theta -
    # theta_0) with alpha = exp(beta tanh(gap)).
    with torch.no_grad():
        for p in model.encoders['audio'].parameters():
            p.add_(0.01 * torch.randn_like(p))
    losses = model.loss(inputs, samples(y))
    gap = val(losses['inforeg_gap_audio'])
    alpha = math.exp(0.9 * math.tanh(gap))
    assert val(losses['inforeg_alpha_audio']) == pytest.approx(alpha)
    params = list(model.encoders['audio'].parameters())
    grads = torch.autograd.grad(losses['loss_inforeg_audio'], params)
    for p, p0, g in zip(params, bal._snapshot['audio'], grads):
        assert torch.allclose(g, alpha * (p.detach() - p0), atol=1e-6)
    # A closed window: no penalty at all.
    bal._open = {'audio': False, 'visual': False}
    assert not any(k.startswith('loss_inforeg')
                   for k in model.loss(inputs, samples(y)))


def test_scale_per_modality_and_three_modalities():
    mods = ('audio', 'visual', 'text')
    model = make_model(mods, scale=dict(audio=0.5, visual=2.0, text=1.0),
                       beta=1.0)
    inputs, y = batch(modalities=mods, clean=(3.0, 1.0, 0.1))
    warm_up(model, inputs, y)
    model.train()
    model.balancer.start_epoch(model)
    model.balancer._open = dict.fromkeys(mods, True)
    losses = model.loss(inputs, samples(y))
    gaps = torch.tensor([val(losses[f'inforeg_gap_{m}']) for m in mods])
    order = gaps.argsort()
    weakest = mods[int(order[0])]
    assert float(gaps.min()) == 0.0
    pulled = {m for m in mods if f'loss_inforeg_{m}' in losses}
    assert pulled == set(mods) - {weakest}
    for m in pulled:
        scale = dict(audio=0.5, visual=2.0, text=1.0)[m]
        assert val(losses[f'inforeg_alpha_{m}']) == pytest.approx(
            scale * math.exp(math.tanh(val(losses[f'inforeg_gap_{m}']))))
    bad = make_model(scale=dict(audio=1.0))
    with pytest.raises(KeyError, match="'visual'"):
        bad.balancer.scale_of('visual')


def test_mean_scores_do_not_depend_on_the_batch_size_and_sums_do():
    inputs, y = batch(16)
    doubled = {m: torch.cat([x, x]) for m, x in inputs.items()}
    y2 = torch.cat([y, y])
    got = {}
    for reduction in ('mean', 'sum'):
        model = make_model(score_reduction=reduction)
        warm_up(model, inputs, y)
        model.eval()  # BatchNorm-free MLPs: eval keeps the features equal
        model.training = True  # the balancer only acts in training
        one = model.loss(inputs, samples(y))['inforeg_gap_audio']
        two = model.loss(doubled, samples(y2))['inforeg_gap_audio']
        got[reduction] = (val(one), val(two))
    assert got['mean'][0] == pytest.approx(got['mean'][1], rel=1e-5)
    assert got['sum'][1] == pytest.approx(2 * got['sum'][0], rel=1e-5)


def test_unimodal_loss_is_the_decomposed_cross_entropies():
    model = make_model(unimodal_loss=True)
    inputs, y = batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    feats = model.extract_feat(inputs)
    parts = model.fusion.decompose(feats, weights=model.modality_weights)
    expected = sum(F.cross_entropy(parts[m], y) for m in model.modalities)
    assert val(losses['loss_unimodal']) == pytest.approx(val(expected),
                                                           rel=1e-5)
    assert 'loss_unimodal' not in make_model().loss(inputs, samples(y))


def test_trace_is_the_mean_squared_encoder_gradient_norm_per_epoch():
    model = make_model()
    inputs, y = batch()
    model.train()
    bal = model.balancer
    expected = []
    for _ in range(3):
        model.zero_grad()
        sum(v for k, v in model.loss(inputs, samples(y)).items()
            if 'loss' in k).backward()
        bal.after_backward(model)
        expected.append([sum(float(p.grad.pow(2).sum()) for p in
                             model.encoders[m].parameters())
                         for m in model.modalities])
    row = bal.end_epoch(model)
    mean = torch.tensor(expected).mean(0).tolist()
    assert row == pytest.approx(mean, rel=1e-5)
    assert bal.trace_history.shape == (1, 2) and int(bal.trace_steps) == 0

    class Scaler:  # mixed precision: gradients carry the loss scale
        @staticmethod
        def get_scale():
            return 4.0

    bal._optim_wrapper = type('W', (), {'loss_scaler': Scaler()})()
    for p in model.parameters():
        p.grad = p.grad * 4.0
    bal.after_backward(model)
    assert bal.end_epoch(model) == pytest.approx(expected[-1], rel=1e-5)


def test_refuses_bad_options():
    for bad in (dict(window='x'), dict(score_reduction='x'),
                dict(score='x')):
        with pytest.raises(ValueError, match='InfoRegBalancer'):
            make_model(**bad)


def test_two_epoch_run_keeps_its_trace_history(tiny_root, tmp_path):
    # The code's window is open from epoch 0, so the pull acts in 2 epochs.
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root), 'model.balancer.window=code')
    ckpt = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu',
                      weights_only=False)
    history = ckpt['state_dict']['balancer.trace_history']
    assert history.shape == (2, 2) and bool((history > 0).all())
    rows = load_scalars(tmp_path)
    alphas = [r for r in rows if any(k.startswith('inforeg_alpha_')
                                     for k in r)]
    assert alphas, 'the pull never acted'
    log = next(tmp_path.rglob('*.log')).read_text()
    assert 'InfoReg epoch 1: window audio open, visual open' in log
    assert 'InfoReg epoch 1: Fisher trace audio' in log
    MessageHub.get_current_instance().update_info('epoch', 0)

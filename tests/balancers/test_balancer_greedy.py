"""Greedy: conditional learning speed (BDR), the curation schedule, and a
2-epoch run through tools/train.py."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from conftest import REPO, run_tool, tiny_options

from armlab.balancers.greedy import GreedyBalancer, learning_speed
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

from helpers.mmtm_models import ENCODERS, batch, mmtm_model

CONFIG = REPO / 'configs' / 'greedy' / 'greedy_resnet18_avdigits.py'


def greedy_model(**balancer):
    return mmtm_model(balancer=dict(type='GreedyBalancer', **balancer))


def data(seed=0):
    labels = torch.arange(4) % 3
    return dict(inputs=batch(seed=seed),
                data_samples=[DataSample().set_gt_label(int(y))
                              for y in labels])


def run_steps(model, steps):
    """Run ``steps`` training steps; return their log dicts."""
    model.train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    return [model.train_step(data(seed=i), wrapper) for i in range(steps)]


def test_bdr_matches_a_manual_computation():
    model = greedy_model()
    balancer = model.balancer
    totals = {k: torch.zeros(2, dtype=torch.float64)
              for k in ('bypass', 'main')}
    for seed in (0, 1):
        model.zero_grad()
        losses = model.loss(batch(seed=seed), data()['data_samples'])
        losses['loss_cls'].backward()
        for i, m in enumerate(model.modalities):
            for key, params in (('bypass', model.bypass_parameters(m)),
                                ('main', model.main_parameters(m))):
                params = list(params)
                grad = sum(float(p.grad.double().pow(2).sum())
                           for p in params if p.grad is not None)
                weight = sum(float(p.detach().double().pow(2).sum())
                             for p in params)
                totals[key][i] += grad / weight
        dbdr = balancer.accumulate_bdr(model)
    bdr = torch.log10(totals['bypass'] / totals['main'])
    assert dbdr == pytest.approx(float(bdr[0] - bdr[1]), rel=1e-9)
    torch.testing.assert_close(balancer.bypass_speed, totals['bypass'])


def test_learning_speed_counts_missing_gradients_as_zero():
    w = torch.nn.Parameter(torch.full((4, ), 2.0))
    b = torch.nn.Parameter(torch.zeros(3))
    w.grad = torch.ones(4)
    assert float(learning_speed([w, b])) == pytest.approx(4 / 16)


def test_overflowing_gradients_are_left_out_of_the_sums():
    model = greedy_model()
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    model.balancer.accumulate_bdr(model)
    before = model.balancer.main_speed.clone()
    model.encoders['audio'].conv1.weight.grad.fill_(float('inf'))
    model.balancer.accumulate_bdr(model)
    torch.testing.assert_close(model.balancer.main_speed, before)


@pytest.mark.parametrize('dbdr,caring', [(0.5, 0), (-0.5, 1)])
def test_sign_of_dbdr_picks_the_caring_modality(dbdr, caring, monkeypatch):
    model = greedy_model(epsilon=0.1, window=2, start_epoch=0)
    monkeypatch.setattr(model.balancer, 'accumulate_bdr', lambda m: dbdr)
    logs = run_steps(model, 4)
    assert [float(log['greedy_caring']) for log in logs] == \
        [-1, caring, caring, -1]


def test_small_dbdr_and_warmup_keep_regular_steps(monkeypatch):
    model = greedy_model(epsilon=0.1, start_epoch=0)
    monkeypatch.setattr(model.balancer, 'accumulate_bdr', lambda m: 0.05)
    assert not any(float(log['greedy_rebalancing'])
                   for log in run_steps(model, 3))
    # Outside a runner the epoch is 0: start_epoch 1 is never reached.
    model = greedy_model(epsilon=0.0, start_epoch=1)
    logs = run_steps(model, 3)
    assert not any(float(log['greedy_rebalancing']) for log in logs)
    assert float(logs[-1]['greedy_dbdr']) != 0


def test_curation_window_lasts_q_steps_and_pauses_the_bdr():
    model = greedy_model(epsilon=0.0, window=2, start_epoch=0)
    speeds = []
    logs = []
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    for i in range(7):
        logs.append(model.train_step(data(seed=i), wrapper))
        speeds.append(model.balancer.bypass_speed.clone())
        assert all(b.caring is None for b in model.mmtm.values())
    steps = [int(log['greedy_rebalancing']) for log in logs]
    assert steps == [0, 1, 1, 0, 1, 1, 0]
    for i, rebalanced in enumerate(steps[1:], start=1):
        assert torch.equal(speeds[i], speeds[i - 1]) == bool(rebalanced)
    # Each window cares for the modality the opening step's d_BDR points to.
    for opening in (0, 3):
        dbdr = float(logs[opening]['greedy_dbdr'])
        caring = [int(log['greedy_caring'])
                  for log in logs[opening + 1:opening + 3]]
        assert caring == [0 if dbdr > 0 else 1] * 2


def test_random_variant_mixes_regular_and_both_rebalancing_steps():
    torch.manual_seed(0)
    balancer = GreedyBalancer(mode='random', start_epoch=0)
    draws = torch.tensor([balancer.caring_for_step() for _ in range(300)])
    counts = torch.bincount(draws + 1, minlength=3)
    assert bool((counts > 70).all()), counts  # about 100 each
    # Before start_epoch (the epoch is 0 outside a runner): regular steps.
    assert GreedyBalancer(mode='random', start_epoch=1).caring_for_step() == -1
    model = greedy_model(mode='random', start_epoch=0)
    for log in run_steps(model, 2):
        assert float(log['greedy_rebalancing']) == \
            float(log['greedy_caring'] >= 0)


def test_refuses_models_without_mmtm():
    model = MultimodalClassifier(
        encoders=ENCODERS, fusion=dict(type='ConcatFusion'), num_classes=3,
        balancer=dict(type='GreedyBalancer'),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    with pytest.raises(TypeError, match='MMTMClassifier'):
        run_steps(model, 1)
    with pytest.raises(ValueError, match='guided'):
        GreedyBalancer(mode='always')
    model = mmtm_model(mmtm_stages=(), balancer=dict(type='GreedyBalancer'))
    with pytest.raises(ValueError, match='at least one MMTM block'):
        run_steps(model, 1)


@pytest.mark.e2e
def test_greedy_trains_end_to_end(tiny_root, tmp_path):
    # Re-balancing from the second epoch; epsilon 0 so that it surely runs.
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', tmp_path,
                    '--cfg-options', *tiny_options(tiny_root),
                    'model.balancer.start_epoch=1',
                    'model.balancer.epsilon=0.0')
    rows = [r for r in load_scalars(tmp_path) if 'greedy_dbdr' in r]
    assert len(rows) == 8  # 60 samples in batches of 16, 2 epochs
    first, second = rows[:4], rows[4:]
    assert not any(r['greedy_rebalancing'] for r in first)
    assert second[0]['greedy_rebalancing'] == 0
    assert all(r['greedy_rebalancing'] == 1 for r in second[1:])
    assert {r['greedy_caring'] for r in second[1:]} <= {0.0, 1.0}
    assert 'accuracy/top1' in proc.stdout + proc.stderr
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert state['mmtm.layer4.running_excitation_audio'].shape == (32, )
    assert state['balancer.bypass_speed'].shape == (2, )
    assert int(state['balancer.curation_left']) > 0

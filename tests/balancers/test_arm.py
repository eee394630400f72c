"""ARM: feature weights, min-max loss, re-sampling plan, label-free test."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from armlab.balancers.arm import (contribution_weights,
                                  repeat_plan, smooth_max)
from armlab.datasets.samplers import ResamplingSampler
from armlab.evaluation.valuation import pointwise_contributions
from armlab.models import MultimodalClassifier

K = 4


def dominance_data(n=256, seed=0):
    """Audio is a clean one-hot of the label; vision a heavily noisy one."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % K
    onehot = torch.nn.functional.one_hot(y, K).float()
    audio = onehot * 3 + 0.1 * torch.randn(n, K, generator=g)
    visual = onehot + 1.5 * torch.randn(n, K, generator=g)
    return dict(audio=audio, visual=visual), y


def mlp_model(balancer=None):
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders=dict(audio=dict(type='MLPEncoder', in_channels=K,
                                 out_channels=16, hidden_channels=(16, )),
                      visual=dict(type='MLPEncoder', in_channels=K,
                                  out_channels=16, hidden_channels=(16, ))),
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=balancer or dict(type='ARMBalancer'),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


@pytest.fixture(autouse=True)
def reset_hub_epoch():
    """ARM reads the epoch where mmengine's RuntimeInfoHook records it;
    each test starts and ends at epoch 0."""
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def train(model, inputs, labels, steps=60, epoch=5):
    model.balancer.set_warmup(warmup_epochs=5)  # as ARMHook's default
    MessageHub.get_current_instance().update_info('epoch', epoch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    for _ in range(steps):
        losses = model.loss(inputs, samples(labels))
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def test_contribution_weights_amplify_the_weak_modality():
    w = contribution_weights(torch.tensor([2.0, 0.5]), gamma=1.0,
                             max_weight=10, eps=1e-3)
    torch.testing.assert_close(w, torch.tensor([0.5, 2.0]))
    assert float(w.prod()) == pytest.approx(1.0)
    # gamma = 2 with two modalities is the official ratio Phi_other / Phi_m.
    w2 = contribution_weights(torch.tensor([2.0, 0.5]), 2.0, 10, 1e-3)
    torch.testing.assert_close(w2, torch.tensor([0.25, 4.0]))
    clamped = contribution_weights(torch.tensor([2.0, 0.5]), 2.0, 1.5, 1e-3)
    torch.testing.assert_close(clamped, torch.tensor([1 / 1.5, 1.5]))
    # A modality that contributes nothing is the most imbalanced case: it
    # gets the largest weight instead of switching the weights off.
    torch.testing.assert_close(
        contribution_weights(torch.tensor([1.0, 0.0]), 1.0, 3, 1e-3),
        torch.tensor([1 / 3, 3.0]))
    torch.testing.assert_close(
        contribution_weights(torch.tensor([1.0, -0.2]), 1.0, 3, 1e-3),
        torch.tensor([1 / 3, 3.0]))
    # Nothing learned yet (no contribution above eps): weights 1.
    assert torch.equal(
        contribution_weights(torch.tensor([0.0, -0.1]), 1.0, 3, 1e-3),
        torch.ones(2))


def test_smooth_max_weights_the_worst_loss():
    losses = torch.tensor([0.2, 2.0], requires_grad=True)
    smooth_max(losses, 1.0).backward()
    torch.testing.assert_close(losses.grad,
                               torch.softmax(losses.detach(), 0))
    assert losses.grad[1] > 0.8
    assert float(smooth_max(torch.tensor([0.2, 2.0]), 0.01)) == \
        pytest.approx(2.0, abs=1e-3)


def test_weak_modality_weight_rises_above_the_dominant_one():
    inputs, labels = dominance_data()
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(start_epoch=0, gamma=1.0,
                                                max_weight=3.0),
                           minmax_loss=dict(enable=False)))
    losses = train(model, inputs, labels)
    phi = model.balancer.contributions
    assert phi[0] > 0 and phi[0] > phi[1]  # audio dominates
    w_audio, w_visual = model.balancer.weights(model).tolist()
    assert w_visual > 1.0 > w_audio
    assert losses['arm_weight_visual'] == pytest.approx(w_visual)
    # 'gradient' (the default) leaves the forward weights at 1.
    assert torch.equal(model.modality_weights, torch.ones(2))


def test_weights_stay_one_during_warmup_and_when_disabled():
    inputs, labels = dominance_data()
    warm = mlp_model(dict(type='ARMBalancer',
                          feature_weights=dict(start_epoch=5)))
    train(warm, inputs, labels, steps=5, epoch=2)
    assert torch.equal(warm.balancer.weights(warm), torch.ones(2))
    off = mlp_model(dict(type='ARMBalancer',
                         feature_weights=dict(enable=False,
                                              apply='features')))
    train(off, inputs, labels, steps=5)
    assert torch.equal(off.balancer.weights(off), torch.ones(2))
    assert torch.equal(off.modality_weights, torch.ones(2))


def test_minmax_loss_is_added_and_follows_its_definition():
    inputs, labels = dominance_data(n=32)
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(enable=False),
                           minmax_loss=dict(loss_weight=0.5,
                                            weighting='smoothmax',
                                            temperature=2.0)))
    model.balancer.set_warmup(warmup_epochs=5)
    losses = model.loss(inputs, samples(labels))
    feats = model.extract_feat(inputs)
    masked = model.masked_logits(feats, [('audio', ), ('visual', )])
    per = torch.stack([
        torch.nn.functional.cross_entropy(masked[(m, )], labels)
        for m in ('audio', 'visual')
    ])
    expect = 0.5 * 2.0 * torch.logsumexp(per / 2.0, 0)
    torch.testing.assert_close(losses['loss_minmax'], expect)


def test_balancer_refuses_to_run_without_its_hook():
    inputs, labels = dominance_data(n=8)
    model = mlp_model()
    with pytest.raises(RuntimeError, match='ARMHook'):
        model.loss(inputs, samples(labels))


def test_prediction_is_label_free_and_uses_frozen_weights():
    inputs, labels = dominance_data(n=16)
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(start_epoch=0,
                                                apply='features')))
    train(model, inputs, labels, steps=10)
    assert not torch.equal(model.modality_weights, torch.ones(2))
    weights = model.modality_weights.clone()
    model.eval()
    with torch.no_grad():
        a = model(inputs, samples(labels), mode='predict')
        b = model(inputs, None, mode='predict')
        c = model(inputs, samples(labels.flip(0)), mode='predict')
    for x, y, z in zip(a, b, c):
        torch.testing.assert_close(x.pred_score, y.pred_score)
        torch.testing.assert_close(x.pred_score, z.pred_score)
    assert torch.equal(model.modality_weights, weights)


def test_repeat_plan_terciles_and_masks():
    phi = np.array([[1.0, 0.0], [1.0, 0.5], [0.2, 1.0], [np.nan, np.nan],
                    [2.0, 0.1], [0.3, 0.9]])
    repeats, masks = repeat_plan(phi, score='min', rule='tercile',
                                 p_mask=1.0)
    # Not valued: the mean count of the rule (one extra copy, as many
    # draws as a valued sample on average), masking the modality that
    # dominates on average (audio here).
    assert repeats[3] == 2 and masks[3].tolist() == [False, True]
    # Lowest weak-modality contribution -> most copies.
    assert repeats[0] == 3 and repeats[4] == 3
    assert repeats[1] == 1
    # Extra copies mask the dominant modality.
    assert masks[0].tolist() == [False, True]
    assert masks[2].tolist() == [True, False]
    _, no_masks = repeat_plan(phi, p_mask=0.0)
    assert no_masks.all()
    fixed, _ = repeat_plan(phi, rule='fixed')
    # min phi: 0, 0.5, 0.2, -, 0.1, 0.3 -> 3 extra below 0.5, 2 below 0.9.
    assert fixed.tolist() == [4, 3, 4, 3, 4, 4]


def test_sampler_draws_more_of_samples_where_the_weak_modality_is_weak():
    """End to end: train, value per sample, plan, draw."""
    inputs, labels = dominance_data()
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(enable=False),
                           minmax_loss=dict(enable=False)))
    train(model, inputs, labels, steps=30)
    model.eval()
    with torch.no_grad():
        phi = pointwise_contributions(model, model.extract_feat(inputs),
                                      labels)['shapley']
    phi = torch.stack([phi['audio'], phi['visual']], 1).numpy()
    repeats, masks = repeat_plan(phi)
    sampler = ResamplingSampler(list(range(len(labels))), seed=0,
                                mode='weighted')
    sampler.set_plan(repeats, masks)
    counts = np.zeros(len(labels))
    for epoch in range(20):
        sampler.set_epoch(epoch)
        for item in sampler:
            counts[item[0] if isinstance(item, tuple) else item] += 1
    weak = phi[:, 1]
    low = weak <= np.quantile(weak, 1 / 3)
    high = weak > np.quantile(weak, 2 / 3)
    assert counts[low].mean() > 2 * counts[high].mean()
    # Audio dominates almost everywhere, so extra copies mask audio.
    assert (~masks[:, 0]).mean() > 0.8


def test_contributions_load_into_a_fresh_balancer():
    """The contribution buffer is sized on first use; a checkpoint's size
    wins on load (a resumed run keeps its smoothed contributions)."""
    from armlab.balancers import ARMBalancer
    trained = ARMBalancer()
    trained.contributions = torch.tensor([0.3, 0.7])
    fresh = ARMBalancer()
    assert fresh.contributions.numel() == 0
    fresh.load_state_dict(trained.state_dict())
    torch.testing.assert_close(fresh.contributions, torch.tensor([0.3, 0.7]))



def test_the_epoch_is_the_message_hubs_and_old_checkpoints_still_load():
    """No hook tells ARM the epoch: the feature weights start when mmengine's
    RuntimeInfoHook reaches start_epoch. A checkpoint of the version that
    kept the epoch in a buffer loads (the stale epoch is dropped)."""
    inputs, labels = dominance_data()
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(start_epoch=3,
                                                apply='features')))
    train(model, inputs, labels, steps=30, epoch=2)  # sets the hub's epoch
    assert torch.equal(model.modality_weights, torch.ones(2))
    train(model, inputs, labels, steps=30, epoch=3)
    assert not torch.equal(model.modality_weights, torch.ones(2))
    old = {**model.state_dict(), 'balancer.epoch': torch.tensor(7)}
    for name in ('signal_weights', 'loss_weights', 'best_mi'):
        old.pop(f'balancer.{name}')  # buffers that version did not have
    fresh = mlp_model()
    fresh.load_state_dict(old)  # strict: no unexpected key
    torch.testing.assert_close(fresh.balancer.contributions,
                               model.balancer.contributions)


def test_hook_tells_the_sampler_the_batch_size():
    # A re-sampling plan changes the epoch length; the sampler needs the
    # batch size to keep the last training batch from holding one item.
    from types import SimpleNamespace

    from armlab.balancers.arm import ARMHook
    sampler = ResamplingSampler(list(range(6)), seed=0)
    runner = SimpleNamespace(
        model=mlp_model(),
        train_dataloader=SimpleNamespace(sampler=sampler, batch_size=4))
    ARMHook().before_train(runner)
    assert sampler.batch_size == 4
    sampler.set_plan([2, 2, 2, 2, 2, 1])  # 6 + 5 = 11 = 2 * 4 + 3: kept
    assert sampler.plan_stats()['left_out'] == 0 and len(sampler) == 11
    sampler.set_plan([2, 2, 2, 1, 1, 1])  # 6 + 3 = 9 = 2 * 4 + 1
    assert sampler.plan_stats()['left_out'] == 1 and len(sampler) == 8


def test_feature_weights_start_at_the_hooks_warmup_by_default():
    """W is stated once: feature_weights.start_epoch=None takes the hook's
    warm-up; an explicit start wins; without the hook the gate refuses."""
    from types import SimpleNamespace

    from armlab.balancers.arm import ARMHook

    def attach(model, warmup):
        runner = SimpleNamespace(model=model, train_dataloader=SimpleNamespace(
            sampler=ResamplingSampler(list(range(6)), seed=0), batch_size=4))
        ARMHook(warmup_epochs=warmup).before_train(runner)
        return model.balancer.fw['start_epoch']

    model = mlp_model()
    assert model.balancer.fw['start_epoch'] is None
    with pytest.raises(RuntimeError, match='no ARMHook is in custom_hooks'):
        model.balancer._active(model.balancer.fw)
    assert attach(model, 3) == 3
    explicit = mlp_model(dict(type='ARMBalancer',
                              feature_weights=dict(start_epoch=1)))
    assert attach(explicit, 3) == 1


# -- the valuation drives each component ------------------------------------
def test_gradient_weights_scale_each_encoders_learning_signal_only():
    """apply='gradient': alpha_m multiplies the fused loss's gradient into
    encoder m (a linear head cannot absorb it), the forward is untouched."""
    inputs, labels = dominance_data(n=32)
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(start_epoch=0),
                           minmax_loss=dict(enable=False)))
    model.balancer.set_warmup(0)
    model.train()

    def fused_grads(alpha):
        model.balancer.signal_weights = torch.tensor(alpha)
        model.zero_grad()
        feats = model.extract_feat(inputs)
        logits = model.fuse(model.balancer.fusion_features(model, feats))
        torch.nn.functional.cross_entropy(logits, labels).backward()
        grads = {m: torch.cat([p.grad.flatten() for p in
                               model.encoders[m].parameters()])
                 for m in model.modalities}
        return logits.detach(), grads, model.fusion.fc.weight.grad.clone()

    z1, g1, head1 = fused_grads([1.0, 1.0])
    z2, g2, head2 = fused_grads([0.5, 2.0])
    torch.testing.assert_close(z1, z2)  # same forward
    torch.testing.assert_close(g2['audio'], 0.5 * g1['audio'])
    torch.testing.assert_close(g2['visual'], 2.0 * g1['visual'])
    torch.testing.assert_close(head1, head2)  # the head learns as before
    assert torch.equal(model.modality_weights, torch.ones(2))


def test_minmax_weights_follow_the_epoch_cmi_and_the_guard():
    """'cmi': w = softmax(-CMI / tau_c), uniform before the first valuation
    and for an epoch in which the dominant modality's MI fell below its
    best; 'uniform' (the control) never reads the valuation."""
    from armlab.balancers.arm import cmi_loss_weights
    inputs, labels = dominance_data(n=32)
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(enable=False),
                           minmax_loss=dict(contribution_temperature=0.5)))
    balancer = model.balancer
    feats = model.extract_feat(inputs)
    masked = model.masked_logits(feats, [('audio', ), ('visual', )])
    per = torch.stack([torch.nn.functional.cross_entropy(masked[(m, )],
                                                         labels)
                       for m in ('audio', 'visual')])
    before = balancer.minmax_loss(model, feats, labels)
    torch.testing.assert_close(before, per.sum())  # uniform: M * mean
    decided = balancer.set_epoch_valuation(torch.tensor([0.8, 0.3]),
                                           torch.tensor([0.6, 0.1]))
    w = cmi_loss_weights(torch.tensor([0.6, 0.1]), 0.5)
    assert not decided['paused'] and w[1] > w[0]  # the weak one weighs more
    torch.testing.assert_close(balancer.minmax_loss(model, feats, labels),
                               2 * (w * per).sum())
    # Audio (dominant: largest CMI, smallest weight) fell from an MI of 0.8
    # to 0.7: the guard pauses.
    decided = balancer.set_epoch_valuation(torch.tensor([0.7, 0.4]),
                                           torch.tensor([0.5, 0.2]))
    assert decided['paused']
    torch.testing.assert_close(balancer.loss_weights, torch.full((2, ), 0.5))
    # Within the tolerance (0.02) of its best (0.8): reinforcing resumes.
    decided = balancer.set_epoch_valuation(torch.tensor([0.79, 0.5]),
                                           torch.tensor([0.5, 0.2]))
    assert not decided['paused'] and balancer.loss_weights[1] > 0.5
    # Visual fell from its best (0.5), but the weights favour it (it is not
    # the dominant one): no pause.
    decided = balancer.set_epoch_valuation(torch.tensor([0.8, 0.3]),
                                           torch.tensor([0.5, 0.2]))
    assert not decided['paused']
    uniform = mlp_model(dict(type='ARMBalancer',
                             feature_weights=dict(enable=False),
                             minmax_loss=dict(weighting='uniform')))
    uniform.load_state_dict(model.state_dict())
    torch.testing.assert_close(uniform.balancer.minmax_loss(model, feats,
                                                            labels),
                               per.sum())


def test_masked_forward_keeps_absent_modalities_absent():
    """Under a batch's presence mask, subset S of sample i is S ∩ present_i;
    the per-modality losses and the batch valuation skip the rows that hide
    their modality."""
    from armlab.balancers.arm import per_modality_losses
    inputs, labels = dominance_data(n=8)
    model = mlp_model()
    feats = model.extract_feat(inputs)
    present = torch.ones(8, 2, dtype=torch.bool)
    present[:3, 0] = False  # rows 0-2: audio masked
    plain = model.masked_logits(feats)
    within = model.masked_logits(feats, present=present)
    torch.testing.assert_close(within[('audio', )][:3], plain[()][:3])
    torch.testing.assert_close(within[('audio', 'visual')][:3],
                               plain[('visual', )][:3])
    torch.testing.assert_close(within[('audio', )][3:],
                               plain[('audio', )][3:])
    losses = per_modality_losses(plain, labels, model.modalities, present)
    ce = torch.nn.functional.cross_entropy(plain[('audio', )][3:],
                                           labels[3:])
    torch.testing.assert_close(losses[0], ce)
    # Prediction reads the samples' masks for the masked heads too.
    data = samples(labels)
    for ds, row in zip(data, present):
        ds.set_field(row, 'modality_mask', field_type='data')
    model.eval()
    with torch.no_grad():
        out = model(inputs, data, mode='predict')
    torch.testing.assert_close(out[0].modality_scores['audio_mask'],
                               torch.softmax(plain[()][0], 0))
    # The batch valuation uses the fully present rows only.
    model.balancer.set_warmup(0)
    model.balancer._value_batch(model, feats, labels, present)
    full = pointwise_contributions(
        model, {m: f[3:] for m, f in feats.items()}, labels[3:])['shapley']
    torch.testing.assert_close(
        model.balancer.contributions,
        torch.stack([full['audio'].mean(), full['visual'].mean()]))


def test_repeat_plan_ranks_within_cohorts_and_the_control_shuffles():
    rng = np.random.default_rng(0)
    phi = np.stack([rng.uniform(0.5, 1.0, 60), rng.uniform(0, 0.4, 60)], 1)
    phi[::3] = phi[::3][:, ::-1]  # visual dominates a third of the samples
    cohort = np.repeat([3, 4], 30)
    phi[cohort == 3] -= 0.3  # an older, weaker model valued these
    repeats, masks = repeat_plan(phi, cohort=cohort)
    for c in (3, 4):  # terciles inside each cohort: 10 / 10 / 10
        assert np.bincount(repeats[cohort == c], minlength=4)[1:].tolist() \
            == [10, 10, 10]
    shuffled, shuffled_masks = repeat_plan(phi, score='shuffled', seed=1)
    real, real_masks = repeat_plan(phi, seed=1)
    # Same counts and masking rate as the real plan, not the same samples.
    assert sorted(shuffled.tolist()) == sorted(real.tolist())
    assert (~shuffled_masks).sum(0).tolist() == (~real_masks).sum(0).tolist()
    assert not np.array_equal(shuffled, real)
    with pytest.raises(ValueError, match='shuffled'):
        repeat_plan(phi, score='random')


def test_step_valuation_records_each_fully_present_samples_last_values():
    """ARMHook(valuation='steps') reads what the training steps computed:
    while recording, every step keeps the pointwise values of its samples
    with every modality present (a copy masking one is left out), and the
    epoch valuation takes each sample's last draw."""
    from armlab.balancers.arm import _last_per_sample
    inputs, labels = dominance_data(n=8)
    model = mlp_model(dict(type='ARMBalancer',
                           feature_weights=dict(start_epoch=0)))
    model.balancer.set_warmup(0)
    data = samples(labels)
    for i, ds in enumerate(data):
        ds.set_metainfo(dict(sample_idx=i % 6))  # rows 6, 7 redraw 0, 1
    present = torch.ones(8, 2, dtype=torch.bool)
    present[2, 1] = False  # sample 2's copy hides its vision
    for ds, row in zip(data, present):
        ds.set_field(row, 'modality_mask', field_type='data')
    model.train()
    model.loss(inputs, data)  # not recording: nothing kept
    assert model.balancer.stop_recording() is None
    model.balancer.start_recording()
    model.loss(inputs, data)
    steps = model.balancer.stop_recording()
    assert len(steps) == 1 and steps[0][0].tolist() == [0, 1, 3, 4, 5, 0, 1]
    with torch.no_grad():
        feats = model.extract_feat(inputs)
    keep = [0, 1, 3, 4, 5, 6, 7]
    expected = pointwise_contributions(
        model, {m: f[keep] for m, f in feats.items()}, labels[keep])
    torch.testing.assert_close(
        torch.as_tensor(steps[0][1][:, 2]),
        torch.stack([expected['cmi'][m] for m in ('audio', 'visual')], 1))
    index, values, got_labels, preds = _last_per_sample(steps, 2)
    assert sorted(index.tolist()) == [0, 1, 3, 4, 5]
    row_of_0 = int(np.flatnonzero(index == 0)[0])
    # Sample 0's last draw is batch row 6 (the sixth kept row).
    np.testing.assert_allclose(values[row_of_0], steps[0][1][5])
    assert got_labels[row_of_0] == int(labels[6])
    assert preds.shape == (5, 2)

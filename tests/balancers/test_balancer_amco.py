"""AMCo: the sine ramp of the mask ratio, the dependence shares, the
dependent modality hidden from every loss once the ratio is 1 (logit and
feature masks), dependence carried to the next step and reset each epoch,
joint training outside the window, an unmasked prediction, the refusals and
a two-epoch run."""
import math

import pytest
import torch
import torch.nn.functional as F

from conftest import REPO, tiny_options, train_in_process
from helpers.vector_batches import labelled_batch as batch
from helpers.vector_batches import mlp_classifier, samples

from armlab.balancers.amco import (AMCoBalancer, dependence_shares,
                                   inverted_dropout_scale, mask_ratio,
                                   random_mask)
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'amco' / 'amco_resnet18_avdigits.py'
K = 4  # the helpers' class count
PER_EPOCH = 10


def make_model(modalities=('audio', 'visual'), **balancer):
    return mlp_classifier(dict(dict(type='AMCoBalancer', start_epoch=1), **balancer), modalities)


@pytest.fixture
def at_batch(hub):
    """Sets the runner's position: ``at_batch(epoch, j)`` is batch j of
    epoch ``epoch`` of a run with PER_EPOCH batches per epoch."""
    hub.update_info('max_epochs', 8)
    hub.update_info('max_iters', 8 * PER_EPOCH)

    def place(epoch, j=0):
        hub.update_info('epoch', epoch)
        hub.update_info('iter', epoch * PER_EPOCH + j)
    yield place
    for key in ('max_epochs', 'max_iters'):
        hub.update_info(key, None)
    hub.update_info('iter', 0)


def val(t):
    return float(t.detach())


def make_dependent(model, modality):
    balancer = model.balancer
    balancer._dependent = {modality: True}
    balancer._dependent_epoch = balancer.current_epoch()


def test_the_ramp_is_zero_in_epoch_zero_and_saturates_from_epoch_one():
    assert mask_ratio(50, 0) == 0.0
    assert mask_ratio(0, 3) == 0.0  # every epoch restarts the level
    assert mask_ratio(1, 1) == pytest.approx(math.sin(math.pi / 6))
    assert mask_ratio(2, 1) == pytest.approx(math.sin(math.pi / 3))
    assert mask_ratio(3, 1) == pytest.approx(1.0)
    assert mask_ratio(1, 3) == pytest.approx(1.0)


def test_random_mask_has_floor_ratio_zeros():
    torch.manual_seed(0)
    for ratio, zeros in ((0.0, 0), (0.5, 5), (0.86, 8), (1.0, 10)):
        mask = random_mask(10, ratio)
        assert int((mask == 0).sum()) == zeros
        assert set(mask.tolist()) <= {0.0, 1.0}
    assert inverted_dropout_scale(0.5) == pytest.approx(2.0)
    assert inverted_dropout_scale(0.95) == 10.0


def test_shares_are_the_blocks_of_one_softmax_over_all_logits():
    a = torch.tensor([[4.0, 0.0], [0.0, 0.0]])
    v = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    shares = dependence_shares(dict(audio=a, visual=v), ('audio', 'visual'))
    e4, e1 = math.exp(4), math.e
    expected_a = ((e4 + 1) / (e4 + 3) + 2 / (2 + 2 * e1)) / 2
    assert shares.tolist() == pytest.approx([expected_a, 1 - expected_a])


def test_outside_the_window_it_is_joint_training(at_batch):
    model = make_model()
    model.train()
    inputs, y = batch()
    at_batch(0, 5)
    losses = model.loss(inputs, samples(y))
    assert set(k for k in losses if k.startswith('loss')) == {'loss_cls'}
    logits = model.fuse(model.extract_feat(inputs))
    assert val(losses['loss_cls']) == pytest.approx(
        val(F.cross_entropy(logits, y)), rel=1e-6)


def test_in_the_window_unimodal_losses_join_and_nothing_is_masked_first(
        at_batch):
    model = make_model()
    model.train()
    inputs, y = batch()
    at_batch(1, 0)
    losses = model.loss(inputs, samples(y))
    parts = model.fusion.decompose(model.extract_feat(inputs))
    for m in ('audio', 'visual'):
        assert val(losses[f'loss_{m}']) == pytest.approx(
            val(F.cross_entropy(parts[m], y)), rel=1e-6)
        assert val(losses[f'amco_masked_{m}']) == 0.0
    # the step's shares decide the next step's dependent modality
    shares = dependence_shares(parts, model.modalities)
    assert model.balancer._dependent == {
        m: bool(shares[i] > 0.5) for i, m in enumerate(model.modalities)}


@pytest.mark.parametrize('mask', ['logits', 'features'])
def test_a_dependent_modality_at_ratio_one_gets_no_gradient(at_batch, mask):
    model = make_model(mask=mask)
    model.train()
    inputs, y = batch()
    at_batch(2, 5)  # level 5 * 2 * 0.1 = 1 >= eps: the ratio is 1
    make_dependent(model, 'audio')
    losses = model.loss(inputs, samples(y))
    assert val(losses['amco_ratio']) == pytest.approx(1.0)
    assert val(losses['amco_masked_audio']) == 1.0
    # the fused loss sees the visual modality (and the bias) alone
    feats = model.extract_feat(inputs)
    visual_only = model.fusion.decompose(feats)['visual']
    if mask == 'logits':
        expected = visual_only
    else:  # zeroed features still carry the audio share of the bias
        expected = visual_only + model.fusion.fc.bias / 2
    assert val(losses['loss_cls']) == pytest.approx(
        val(F.cross_entropy(expected, y)), rel=1e-5)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    audio = [p.grad for p in model.encoders['audio'].parameters()]
    visual = [p.grad for p in model.encoders['visual'].parameters()]
    assert all(g is None or float(g.abs().max()) == 0.0 for g in audio)
    assert sum(float(g.abs().sum()) for g in visual if g is not None) > 0


def test_a_partial_feature_mask_rescales_what_it_keeps(at_batch):
    model = make_model(mask='features')
    model.train()
    inputs, _ = batch()
    at_batch(1, 1)  # ratio sin(pi / 6) = 0.5: 3 of 6 features kept, x 2
    make_dependent(model, 'visual')
    feats = model.extract_feat(inputs)
    masked = model.balancer.fusion_features(model, feats)
    kept = (masked['visual'] != 0).any(0)
    assert int(kept.sum()) == 3
    assert torch.allclose(masked['visual'][:, kept],
                          2 * feats['visual'][:, kept])
    assert torch.equal(masked['audio'], feats['audio'])


def test_dependence_resets_at_each_epoch(at_batch):
    model = make_model()
    model.train()
    at_batch(2, 3)
    make_dependent(model, 'audio')
    assert model.balancer.dependent(model) == 'audio'
    at_batch(3, 0)
    assert model.balancer.dependent(model) is None


def test_prediction_is_never_masked(at_batch):
    model = make_model()
    inputs, y = batch()
    at_batch(2, 5)
    make_dependent(model, 'audio')
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples(y))
        logits = model.fuse(model.extract_feat(inputs))
    scores = torch.stack([ds.pred_score for ds in out])
    assert torch.allclose(scores, logits.softmax(1), atol=1e-6)


def test_three_modalities_share_one_softmax(at_batch):
    modalities = ('audio', 'visual', 'text')
    model = make_model(modalities)
    model.train()
    inputs, y = batch(modalities=modalities)
    at_batch(1, 0)
    losses = model.loss(inputs, samples(y))
    total = sum(val(losses[f'amco_share_{m}']) for m in modalities)
    assert total == pytest.approx(1.0, abs=1e-5)


def test_refusals():
    with pytest.raises(ValueError, match='mask'):
        AMCoBalancer(mask='classes')
    with pytest.raises(ValueError, match='sigma'):
        AMCoBalancer(sigma=1.5)
    model = make_model(('audio', ))
    inputs, y = batch(modalities=('audio', ))
    model.train()
    with pytest.raises(ValueError, match='two or more'):
        model.loss(inputs, samples(y))


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    rows = [r for r in load_scalars(tmp_path) if 'amco_share_audio' in r]
    assert rows  # epoch 1 is in the window
    assert all(0 <= r['amco_share_audio'] <= 1 for r in rows)
    assert any(r.get('amco_ratio', 0) > 0 for r in rows)

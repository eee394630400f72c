"""CML: the per-epoch removal order, the chain's loss against its formula
(two and three modalities), the hinge's two reductions, a gradient step that
lowers the calibration violation, and a two-epoch run."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from conftest import REPO, tiny_options, train_in_process
from helpers.vector_batches import labelled_batch as batch
from helpers.vector_batches import mlp_classifier, samples

from armlab.balancers.cml import confidence, confidence_hinge
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'cml' / 'cml_resnet18_avdigits.py'
K = 4  # the helpers' class count


def make_model(modalities=('audio', 'visual'), **balancer):
    return mlp_classifier(dict(dict(type='CMLBalancer'), **balancer), modalities)


@pytest.fixture(autouse=True)
def hub():
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 3)
    yield hub
    hub.update_info('epoch', 0)


def val(t):
    return float(t.detach())


def test_the_order_is_a_seeded_permutation_per_epoch():
    mods = ('audio', 'visual', 'text')
    balancer = make_model(mods).balancer
    orders = [balancer.order(mods, e) for e in range(6)]
    assert all(sorted(o) == sorted(mods) for o in orders)
    assert orders == [balancer.order(mods, e) for e in range(6)]
    assert len(set(orders)) > 1


@pytest.mark.parametrize('mods', [('audio', 'visual'),
                                  ('audio', 'visual', 'text')])
def test_loss_is_the_chain_mean_ce_plus_the_hinges(mods):
    model = make_model(mods, hinge_weight=0.7)
    inputs, y = batch(modalities=mods)
    model.train()
    losses = model.loss(inputs, samples(y))
    feats = model.extract_feat(inputs)
    order = model.balancer.order(mods, 3)
    chain = [model.fuse(feats)]
    for k in range(1, len(mods)):
        keep = tuple(m for m in mods if m not in order[:k])
        chain.append(model.masked_logits(feats, [keep])[keep])
    ce = sum(F.cross_entropy(z, y) for z in chain) / len(mods)
    hinge = sum((confidence(chain[k]) - confidence(chain[k - 1]))
                .clamp_min(0).mean() for k in range(1, len(chain)))
    assert val(losses['loss_cls']) == pytest.approx(val(ce), rel=1e-5)
    assert val(losses['loss_calibration']) == pytest.approx(
        val(0.7 * hinge), rel=1e-5)


def test_hinge_reductions():
    fuller = torch.tensor([[4.0, 0, 0, 0], [0.0, 0, 0, 0]])
    reduced = torch.tensor([[0.0, 0, 0, 0], [4.0, 0, 0, 0]])
    gap = confidence(reduced) - confidence(fuller)  # one falls, one rises
    assert val(confidence_hinge(reduced, fuller)) == pytest.approx(
        val(gap[1] / 2))
    assert val(confidence_hinge(reduced, fuller, 'batch')) == 0.0
    assert val(confidence_hinge(fuller, fuller)) == 0.0
    with pytest.raises(ValueError, match='reduction'):
        make_model(reduction='mean')


def test_a_step_on_the_hinge_lowers_the_violation():
    model = make_model(hinge_weight=1.0)
    inputs, y = batch()
    model.train()
    # A sharper head: the chain's confidences differ more.
    with torch.no_grad():
        model.fusion.fc.weight.mul_(5)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    before = val(model.loss(inputs, samples(y))['loss_calibration'])
    assert before > 0
    for _ in range(5):
        opt.zero_grad()
        model.loss(inputs, samples(y))['loss_calibration'].backward()
        opt.step()
    assert val(model.loss(inputs, samples(y))['loss_calibration']) < before


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    rows = [r for r in load_scalars(tmp_path) if 'loss_calibration' in r]
    assert rows and all(r['loss_calibration'] >= 0 for r in rows)

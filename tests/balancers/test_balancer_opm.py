"""OPM: drop probabilities, the per-sample masks and their rescaling, the
gate, the window, evaluation, and a two-epoch run through tools/train.py."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.opm import drop_probabilities, feature_rescale
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'opm' / 'opm_resnet18_avdigits.py'
K = 4


@pytest.fixture(autouse=True)
def hub_at(request):
    """Epoch 1 (after a warm-up of 1), iteration 0; reset afterwards."""
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 1)
    hub.update_info('iter', 0)
    yield hub
    hub.update_info('epoch', 0)
    hub.update_info('iter', 0)


def model_and_batch(n=64, **balancer):
    """Audio a clean one-hot of the label, vision mostly noise: the concat
    head, trained a little, scores audio far above vision."""
    torch.manual_seed(0)
    y = torch.arange(n) % K
    onehot = F.one_hot(y, K).float()
    inputs = dict(audio=onehot * 3 + 0.1 * torch.randn(n, K),
                  visual=onehot * 0.3 + torch.randn(n, K))
    model = MultimodalClassifier(
        encoders=dict(audio=dict(type='MLPEncoder', in_channels=K,
                                 out_channels=8, hidden_channels=(8, )),
                      visual=dict(type='MLPEncoder', in_channels=K,
                                  out_channels=6, hidden_channels=(8, ))),
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(dict(type='OPMBalancer', warmup_epochs=1, p_exe=1.0),
                      **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    plain = MultimodalClassifier.loss  # the joint loss, before OPM acts
    MessageHub.get_current_instance().update_info('epoch', 0)
    for _ in range(40):
        loss = plain(model, inputs, samples(y))['loss_cls']
        opt.zero_grad()
        loss.backward()
        opt.step()
    MessageHub.get_current_instance().update_info('epoch', 1)
    return model, inputs, y


def samples(labels):
    return [DataSample().set_gt_label(int(v)) for v in labels]


def test_drop_probability_grows_with_dominance_and_spares_the_weak():
    ratios = torch.tensor([2.0, 0.5])
    q = drop_probabilities(ratios, q_base=0.5, lam=0.5)
    assert q[1] == 0  # the weak modality is never dropped
    assert q[0] == pytest.approx(0.5 * (1 + 0.5 * torch.tanh(
        torch.tensor(1.0)).item()))
    assert drop_probabilities(torch.tensor([1.0, 1.0]), 0.5, 0.5).sum() == 0
    big = drop_probabilities(torch.tensor([50.0, 0.02]), 0.9, 1.0)
    assert big[0] == 1.0  # clipped to [0, 1]
    # theta is the dimension-weighted mean q.
    scale = feature_rescale(torch.tensor([0.6, 0.0]), torch.tensor([8., 6.]))
    assert float(scale) == pytest.approx(1 / (1 - 0.6 * 8 / 14))


def test_modulated_loss_drops_the_dominant_per_sample_and_rescales():
    model, inputs, y = model_and_batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    q = torch.tensor([losses['opm_q_audio'], losses['opm_q_visual']])
    assert q[0] > 0 and q[1] == 0
    # Rebuild what OPM drew: the gate, then the (B, M) keep mask.
    g = model.balancer._generator(torch.device('cpu'))
    assert float(torch.rand((), generator=g)) < 1.0
    keep = torch.rand((len(y), 2), generator=g) >= q
    assert keep[:, 1].all() and not keep[:, 0].all()
    feats = model.extract_feat(inputs)
    scale = feature_rescale(q, torch.tensor([8., 6.]))
    scaled = {m: f * scale for m, f in feats.items()}
    expected = F.cross_entropy(model.fuse(scaled, present=keep), y)
    torch.testing.assert_close(losses['loss_cls'], expected)
    # Concat with the zero fill: a dropped row's logits read vision only,
    # both blocks multiplied by 1 / (1 - theta).
    fc = model.fusion.fc
    row = int(torch.nonzero(~keep[:, 0])[0])
    z = fc.weight[:, 8:] @ (feats['visual'][row] * scale) + fc.bias
    torch.testing.assert_close(model.fuse(scaled, present=keep)[row], z)


def test_drop_rate_matches_p_exe_times_q_over_many_batches(monkeypatch):
    """The masks OPM actually fuses: over 200 steps the dominant modality
    is dropped at rate p_exe * q, the weak one never."""
    from armlab.balancers.opm import OPMBalancer
    used = []
    original = OPMBalancer.modulated_logits

    def spy(model, feats, keep, scale):
        used.append(keep.clone())
        return original(model, feats, keep, scale)

    monkeypatch.setattr(OPMBalancer, 'modulated_logits', staticmethod(spy))
    model, inputs, y = model_and_batch(p_exe=0.7)
    model.train()
    hub = MessageHub.get_current_instance()
    qs = []
    for it in range(200):
        hub.update_info('iter', it)
        qs.append(float(model.loss(inputs, samples(y))['opm_q_audio']))
    assert len(used) / 200 == pytest.approx(0.7, abs=0.08)
    masks = torch.stack(used)  # (executed, B, M)
    assert masks[..., 1].all()
    rate = float((~masks[..., 0]).float().sum()) / (200 * len(y))
    assert rate == pytest.approx(0.7 * sum(qs) / len(qs), abs=0.06)


def test_plain_loss_in_warmup_at_evaluation_and_without_execution():
    model, inputs, y = model_and_batch()
    feats = model.extract_feat(inputs)
    plain = F.cross_entropy(model.fuse(feats), y)
    MessageHub.get_current_instance().update_info('epoch', 0)  # warm-up
    model.train()
    torch.testing.assert_close(model.loss(inputs, samples(y))['loss_cls'],
                               plain)
    MessageHub.get_current_instance().update_info('epoch', 1)
    model.eval()
    losses = model.loss(inputs, samples(y))
    assert 'opm_q_audio' not in losses
    model.train()
    model.balancer.p_exe = 0.0  # never executed: scored, not modulated
    losses = model.loss(inputs, samples(y))
    assert losses['opm_q_audio'] > 0
    torch.testing.assert_close(losses['loss_cls'], plain)


def test_rows_that_lose_every_modality_are_removed():
    model, inputs, y = model_and_batch(q_base=1.0, lam=1.0)
    data = samples(y)
    present = torch.ones(len(y), 2, dtype=torch.bool)
    present[:10, 1] = False  # vision absent from rows 0-9
    for ds, row in zip(data, present):
        ds.set_field(row, 'modality_mask', field_type='data')
    model.train()
    losses = model.loss(inputs, data)
    q = torch.tensor([losses['opm_q_audio'], losses['opm_q_visual']])
    assert q[0] == 1.0  # audio dropped everywhere
    feats = model.extract_feat(inputs)
    scale = feature_rescale(q, torch.tensor([8., 6.]))
    keep = present.clone()
    keep[:, 0] = False
    logits = model.fuse({m: f * scale for m, f in feats.items()},
                        present=keep)
    torch.testing.assert_close(losses['loss_cls'],
                               F.cross_entropy(logits[10:], y[10:]))


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    rows = load_scalars(tmp_path)
    qs = [(r['opm_q_audio'], r['opm_q_visual']) for r in rows
          if 'opm_q_audio' in r]
    assert len(qs) == 4  # epoch 2 only (warm-up 1), 4 iterations
    assert all(0 <= v <= 1 for pair in qs for v in pair)
    assert all(min(pair) == 0 for pair in qs)  # one modality is spared

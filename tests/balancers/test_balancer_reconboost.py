"""ReconBoost: the boosted ensemble, the reconcilement weights, what each
stage trains, the stage schedule, the optimiser reset, and a two-epoch run
through tools/train.py."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from conftest import REPO, tiny_options, train_in_process
from helpers.parameter_changes import changed, snapshot
from helpers.vector_batches import labelled_data

from armlab.balancers.reconboost import reconcile_weights
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'reconboost' / 'reconboost_resnet18_avdigits.py'
K = 4
MODS = ('audio', 'visual')


def make_model(modalities=MODS, **balancer):
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders={m: dict(type='MLPEncoder', in_channels=K, out_channels=6,
                          hidden_channels=(8, )) for m in modalities},
        fusion=dict(type='BoostedEnsembleFusion', hidden_channels=(5, ),
                    boost_rate=1.5),
        num_classes=K,
        balancer=dict(dict(type='ReconBoostBalancer', learner_epochs=1,
                           rectify_epochs=1), **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(n=16, modalities=MODS):
    return labelled_data(n, modalities, K)


def test_ensemble_is_the_boosted_sum_and_drops_absent_learners():
    model = make_model()
    data = batch()
    feats = model.extract_feat(data['inputs'])
    fusion = model.fusion
    f = {m: fusion.learner(feats[m]) for m in MODS}
    fused = model.fuse(feats)
    torch.testing.assert_close(fused, 1.5 * (f['audio'] + f['visual']))
    parts = fusion.decompose(feats)
    torch.testing.assert_close(sum(parts.values()), fused)
    masked = model.masked_logits(feats, [('visual', ), ()])
    torch.testing.assert_close(masked[('visual', )], 1.5 * f['visual'])
    assert float(masked[()].detach().abs().max()) == 0.0
    with pytest.raises(ValueError, match='same feature size'):
        MultimodalClassifier(
            encoders=dict(audio=dict(type='MLPEncoder', in_channels=K,
                                     out_channels=6),
                          visual=dict(type='MLPEncoder', in_channels=K,
                                      out_channels=7)),
            fusion=dict(type='BoostedEnsembleFusion'), num_classes=K)


def test_reconcilement_weight_falls_as_the_others_solve_the_sample():
    labels = torch.tensor([0, 0, 0])
    others = torch.tensor([[10.0, 0, 0, 0], [0, 0, 0, 0], [0, 10.0, 0, 0]])
    w = reconcile_weights(others, labels, w1=5.0, w2=1.0)
    assert float(w.max()) <= 5.0 / K and float(w.min()) >= 4.0 / K
    assert w[0] < w[1] < w[2]  # solved by the others < unsure < wrong


def test_schedule_is_a_round_robin_of_learner_and_rectification_stages():
    model = make_model(('audio', 'visual', 'text'),
                       order=('text', 'visual', 'audio'), learner_epochs=2)
    phases = [model.balancer.phase(model, e) for e in range(9)]
    assert phases[:3] == [(0, 'learner', 'text'), (0, 'learner', 'text'),
                          (0, 'rectify', 'text')]
    assert phases[3][1:] == ('learner', 'visual')
    assert phases[6][1:] == ('learner', 'audio')
    with pytest.raises(ValueError, match='order'):
        make_model(order=('audio', 'speech')).balancer.phase(make_model(), 0)


def test_a_learner_stage_trains_its_encoder_and_the_head_only(hub):
    model = make_model()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                         momentum=0.9))
    data = batch()
    for epoch, modality in ((0, 'audio'), (2, 'visual')):
        hub.update_info('epoch', epoch)
        before = snapshot(model)
        log = model.train_step(data, optim)
        moved = changed(before, model)
        assert moved and all(k.startswith((f'encoders.{modality}.',
                                           'fusion.head.')) for k in moved)
        assert 'fusion.boost_rate' not in moved
        assert 'loss_learner' in log
    # Stage 1 (visual) aligns with stage 0's learner (audio).
    assert 'loss_align' in log
    hub.update_info('epoch', 1)  # rectification: everything, beta included
    before = snapshot(model)
    model.train_step(data, optim)
    moved = changed(before, model)
    assert 'fusion.boost_rate' in moved
    assert any(k.startswith('encoders.audio.') for k in moved)
    assert any(k.startswith('encoders.visual.') for k in moved)


def test_learner_loss_is_the_reweighted_cross_entropy(hub):
    model = make_model(ga_weight=0.0)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0))
    data = batch()
    hub.update_info('epoch', 0)
    model.eval()  # the same batch-norm-free forward either way
    feats = model.extract_feat(data['inputs'])
    labels = torch.arange(16) % K
    learner = model.fusion.learner(feats['audio'])
    others = 1.5 * model.fusion.learner(feats['visual'])
    expect = (reconcile_weights(others, labels, 5.0, 1.0) *
              F.cross_entropy(learner, labels, reduction='none')).mean()
    model.train()
    log = model.train_step(data, optim)
    got = float(torch.as_tensor(log['loss_learner']).detach())
    assert got == pytest.approx(float(expect.detach()), rel=1e-5)
    assert 'loss_align' not in log


def test_the_learners_optimiser_state_is_reset_once_per_stage(hub):
    model = make_model()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                         momentum=0.9))
    data = batch()
    hub.update_info('epoch', 1)  # rectification fills every momentum
    model.train_step(data, optim)
    head = next(model.fusion.head.parameters())
    visual = next(model.encoders['visual'].parameters())
    audio = next(model.encoders['audio'].parameters())
    assert all(p in optim.optimizer.state for p in (head, visual, audio))
    hub.update_info('epoch', 2)  # stage 1: the visual learner
    state = optim.optimizer.state
    kept = state[audio]['momentum_buffer'].clone()
    old_visual = state[visual]
    model.train_step(data, optim)
    assert int(model.balancer.reset_stage) == 1
    assert state[visual] is not old_visual  # the learner's state restarted
    torch.testing.assert_close(state[audio]['momentum_buffer'], kept)
    new_visual = state[visual]
    model.train_step(data, optim)  # the same stage: not reset again
    assert state[visual] is new_visual


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    stages = {r['reconboost_stage'] for r in load_scalars(tmp_path)
              if 'reconboost_stage' in r}
    assert stages == {0.0}  # epoch 0 the audio learner, epoch 1 rectifies
    losses = [r for r in load_scalars(tmp_path) if 'loss_learner' in r]
    assert losses and all(r['loss_learner'] > 0 for r in losses)

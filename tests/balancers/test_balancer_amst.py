"""AMST: the skip-epoch schedule under the ALT, JOINT and FULL routines, and
2-epoch runs of ALT and JOINT."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from conftest import REPO, tiny_options, train_in_process
from helpers.vector_batches import ENCODERS, K
from helpers.vector_batches import vector_batch as batch

from armlab.balancers.amst import AMSTBalancer, AMSTFullClassifier
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import epoch_series, iter_series, load_scalars

def tiny_model(variant='ALT', fusion=None, aux_heads=False):
    torch.manual_seed(0)
    fusion = fusion or ('SharedHeadFusion' if variant == 'ALT'
                        else 'ConcatFusion')
    return MultimodalClassifier(
        encoders=ENCODERS, fusion=dict(type=fusion), num_classes=K,
        aux_heads=aux_heads,
        balancer=dict(type='AMSTBalancer', variant=variant,
                      skip_factors=dict(audio=2, visual=1)),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def tiny_full():
    torch.manual_seed(0)
    return AMSTFullClassifier(
        encoders=ENCODERS, num_classes=K, aux_heads=True,
        balancer=dict(type='AMSTBalancer', variant='FULL',
                      skip_factors=dict(audio=2, visual=1)),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def sgd(model):
    # Momentum and weight decay: a skipped modality must get no gradient at
    # all (a zero gradient would still move it).
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                        momentum=0.9, weight_decay=1e-3))


@pytest.fixture
def set_epoch():
    hub = MessageHub.get_current_instance()
    yield lambda epoch: hub.update_info('epoch', epoch)
    hub.update_info('epoch', 0)


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def moved(module, before):
    return any(not torch.equal(p, q)
               for p, q in zip(module.parameters(), before))


def run_epochs(model, encoders, set_epoch, epochs=(0, 1, 2, 3)):
    """{epoch: {modality: encoder moved}} over consecutive steps."""
    wrapper = sgd(model)
    out = {}
    for epoch in epochs:
        set_epoch(epoch)
        before = {m: snapshot(encoders[m]) for m in encoders}
        log = model.train_step(batch(seed=epoch), wrapper)
        out[epoch] = {m: moved(encoders[m], before[m]) for m in encoders}
        for m in encoders:
            assert float(log[f'amst_active_{m}']) == float(
                m == 'visual' or epoch % 2 == 0)
    return out


EXPECTED = {0: dict(audio=True, visual=True),
            1: dict(audio=False, visual=True),
            2: dict(audio=True, visual=True),
            3: dict(audio=False, visual=True)}


@pytest.mark.parametrize('variant', ['ALT', 'JOINT'])
def test_skipped_modality_does_not_move(variant, set_epoch):
    model = tiny_model(variant, aux_heads=True)
    assert run_epochs(model, model.encoders, set_epoch) == EXPECTED


def test_full_trains_both_models_on_the_schedule(set_epoch):
    model = tiny_full()
    for name in ('alt', 'joint'):
        assert getattr(model, name).balancer.variant == name.upper()
    encoders = {m: torch.nn.ModuleList([model.alt.encoders[m],
                                        model.joint.encoders[m]])
                for m in model.modalities}
    assert run_epochs(model, encoders, set_epoch) == EXPECTED
    # And each model separately: both moved in a visual-only epoch.
    set_epoch(1)
    before = {n: snapshot(getattr(model, n).encoders['visual'])
              for n in ('alt', 'joint')}
    log = model.train_step(batch(), sgd(model))
    for n in ('alt', 'joint'):
        assert moved(getattr(model, n).encoders['visual'], before[n])
    assert {'alt_amst_loss_audio', 'joint_loss_cls', 'loss'} <= set(log)


def test_full_predicts_the_weighted_combination():
    model = tiny_full().eval()
    data = batch()
    out = model.predict(data['inputs'])
    with torch.no_grad():
        z_alt = model.alt(data['inputs'])
        z_joint = model.joint(data['inputs'])
        fa = model.alt.extract_feat(data['inputs'])
    torch.testing.assert_close(out[0].pred_score,
                               ((2 * z_alt + z_joint) / 3)[0].softmax(0))
    # The official mixing: the ALT term is the mean of its unimodal logits
    # (not W (h_a + h_v) + b, which would weigh it about M times more).
    head = model.alt.fusion.head
    torch.testing.assert_close(z_alt, (head(fa['audio']) +
                                       head(fa['visual'])) / 2)
    scores = out[0].modality_scores
    assert {'audio_mask', 'audio_alt', 'audio_joint', 'audio_decomp'} <= \
        set(scores)
    torch.testing.assert_close(scores['audio_alt'],
                               model.alt.fusion.head(fa['audio'])[0]
                               .softmax(0))
    # Every subset's prediction, for the metric's Shapley contributions.
    assert set(out[0].subset_labels) == {'none', 'audio', 'visual',
                                         'audio+visual'}
    assert int(out[0].subset_labels['audio+visual']) == \
        int(out[0].pred_label)


def test_joint_drops_the_skipped_modalitys_share(set_epoch):
    """In a skipped epoch the official JOINT logits are the active
    modalities' shares only: W_v h_v + b / 2, not the zero fill's
    W_v h_v + b."""
    model = tiny_model('JOINT')
    with torch.no_grad():
        model.fusion.fc.bias.normal_()  # a bias that matters
    data = batch()
    labels = torch.tensor([i % K for i in range(6)])
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        visual_only = model.masked_logits(feats, [('visual', )])
        visual_share = model.fusion.decompose(feats)['visual']
        both = model.fuse(feats)
    torch.testing.assert_close(
        visual_share, visual_only[('visual', )] - model.fusion.fc.bias / 2)
    set_epoch(1)  # audio skipped (another model's optimiser: none moves)
    log = model.train_step(data, sgd(tiny_model('JOINT')))
    torch.testing.assert_close(
        log['loss_cls'], F.cross_entropy(visual_share, labels))
    assert not torch.isclose(
        log['loss_cls'], F.cross_entropy(visual_only[('visual', )], labels))
    gated = tiny_model('JOINT', fusion='GatedFusion')  # not decomposable:
    with torch.no_grad():  # the skipped modality takes the fill
        gated_visual = gated.masked_logits(gated.extract_feat(
            data['inputs']), [('visual', )])[('visual', )]
    log = gated.train_step(data, sgd(tiny_model('JOINT')))
    torch.testing.assert_close(log['loss_cls'],
                               F.cross_entropy(gated_visual, labels))
    set_epoch(0)
    log = model.train_step(data, sgd(tiny_model('JOINT')))
    torch.testing.assert_close(log['loss_cls'],
                               F.cross_entropy(both, labels))


def test_alt_configs_evaluate_the_mean_of_the_unimodal_logits():
    """AMST's evaluation averages the shared head's unimodal logits, i.e.
    W (sum h) + M b for the argmax; training is one modality at a time."""
    from mmengine.config import Config
    cfg = Config.fromfile(REPO / 'configs' / 'amst' /
                          'amst-alt_resnet18_avdigits.py')
    assert cfg.model.fusion.combine == 'mean'
    full = Config.fromfile(REPO / 'configs' / 'amst' /
                           'amst-full_resnet18_avdigits.py')
    assert full.model.alt_fusion.combine == 'mean'


def test_alt_trains_each_modality_alone(set_epoch):
    model = tiny_model('ALT')
    data = batch()
    labels = torch.tensor([i % K for i in range(6)])
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        expected = F.cross_entropy(model.fusion.head(feats['audio']), labels)
    log = model.train_step(data, sgd(model))
    torch.testing.assert_close(log['amst_loss_audio'], expected)


def test_requirements_are_checked():
    with pytest.raises(TypeError, match='SharedHeadFusion'):
        model = tiny_model('ALT', fusion='ConcatFusion')
        model.train_step(batch(), sgd(model))
    with pytest.raises(TypeError, match='AMSTFullClassifier'):
        model = tiny_model('FULL', fusion='ConcatFusion')
        model.train_step(batch(), sgd(model))
    with pytest.raises(ValueError, match='variant'):
        AMSTBalancer(variant='alt')
    with pytest.raises(ValueError, match='integer >= 1'):
        AMSTBalancer(skip_factors=dict(audio=0))
    balancer = AMSTBalancer()
    assert balancer.skip_factors == dict(audio=5, visual=1)  # CREMA-D
    assert [balancer.is_active('audio', e) for e in range(6)] == \
        [True, False, False, False, False, True]


@pytest.mark.parametrize('variant', ['alt', 'joint'])
def test_amst_trains_end_to_end(variant, tiny_root, tmp_path):
    config = REPO / 'configs' / 'amst' / f'amst-{variant}_resnet18_avdigits.py'
    train_in_process(config, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root))
    rows = load_scalars(tmp_path)
    # 4 batches per epoch; audio (k=2) trains in epoch 0 only.
    _, active = iter_series(rows, 'amst_active_audio')
    assert active == [1.0] * 4 + [0.0] * 4
    assert iter_series(rows, 'amst_active_visual')[1] == [1.0] * 8
    assert epoch_series(rows, 'accuracy/top1')[0] == [1, 2]
    assert (tmp_path / 'epoch_2.pth').is_file()

"""DI-MML: the per-dimension nearest-class-mean accuracy and D_m^only, the
contrast reaching the student only, the detached stage (no encoder sees
another's parameters), the frozen fusion stage, the confidence vote, the
refusals, and a two-epoch run through both stages."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from conftest import REPO, tiny_options, train_in_process
from helpers.parameter_changes import changed, snapshot
from helpers.vector_batches import labelled_data

from armlab.balancers.dimml import (DIMMLBalancer, discriminative_dims,
                                    duc_loss, per_dimension_ncm_accuracy)
from armlab.models import MultimodalClassifier
from armlab.models.fusions.detached_interactive import \
    confidence_weighted_sum
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'dimml' / 'dimml_resnet18_avdigits.py'
K = 4
MODS = ('audio', 'visual')


def make_model(modalities=MODS, out_channels=6, fusion=None, **balancer):
    torch.manual_seed(0)
    sizes = out_channels if isinstance(out_channels, dict) else \
        {m: out_channels for m in modalities}
    return MultimodalClassifier(
        encoders={m: dict(type='MLPEncoder', in_channels=K,
                          out_channels=sizes[m], hidden_channels=(8, ))
                  for m in modalities},
        fusion=fusion or dict(type='DetachedInteractiveFusion'),
        num_classes=K, aux_heads=False,
        balancer=dict(dict(type='DIMMLBalancer', duc_epoch=1,
                           fusion_epoch=3), **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def batch(n=16, modalities=MODS):
    return labelled_data(n, modalities, K)


def val(t):
    return float(t.detach())


def test_ncm_accuracy_per_dimension_matches_a_loop():
    torch.manual_seed(0)
    y = torch.arange(60) % 3
    feats = torch.randn(60, 3)
    feats[:, 0] = y.float() * 10 + 0.1 * torch.randn(60)  # separates
    acc = per_dimension_ncm_accuracy(feats, y, num_classes=4, chunk=7)
    means = torch.stack([feats[y == k].mean(0) for k in range(3)])
    for d in range(3):
        pred = (feats[:, d:d + 1] - means[:, d][None]).abs().argmin(1)
        assert float(acc[d]) == pytest.approx(float((pred == y).float().mean()))
    assert float(acc[0]) == 1.0 and float(acc[1:].max()) < 0.8


def test_only_dims_exclude_every_other_modality():
    acc = {'audio': torch.tensor([.9, .9, .1, .1]),
           'visual': torch.tensor([.1, .8, .8, .1]),
           'text': torch.tensor([.5, .5, .5, .9])}
    only = discriminative_dims(acc)
    assert only['audio'].tolist() == [True, False, False, False]
    assert only['visual'].tolist() == [False, False, True, False]
    assert only['text'].tolist() == [False, False, False, True]
    two = discriminative_dims({m: acc[m] for m in MODS})
    assert two['audio'].tolist() == [True, False, False, False]


def test_contrast_is_infonce_on_the_dims_and_trains_the_student_only():
    torch.manual_seed(3)
    student = torch.randn(8, 5, requires_grad=True)
    teacher = torch.randn(8, 5, requires_grad=True)
    dims = torch.tensor([True, False, True, False, False])
    loss = duc_loss(student, teacher, dims, temperature=2.0)
    scores = student[:, [0, 2]] @ teacher[:, [0, 2]].t() / 2.0
    assert val(loss) == pytest.approx(
        val(F.cross_entropy(scores, torch.arange(8))), rel=1e-6)
    loss.backward()
    assert teacher.grad is None or float(teacher.grad.abs().max()) == 0
    assert float(student.grad[:, [1, 3, 4]].abs().max()) == 0
    assert float(student.grad[:, [0, 2]].abs().max()) > 0
    empty = duc_loss(student, teacher, torch.zeros(5, dtype=torch.bool), 2.)
    assert val(empty) == 0.0


def test_detached_stage_has_no_fused_loss_and_no_cross_encoder_gradient(hub):
    model = make_model()
    data = batch()
    model.train()
    losses = model.loss(**data)
    assert set(losses) == {'loss_audio', 'loss_visual', 'loss_shared'}

    def audio_grads():
        model.zero_grad()
        sum(model.loss(**data).values()).backward()
        assert all(p.grad is None or float(p.grad.abs().max()) == 0
                   for p in model.fusion.fusion_head.parameters())
        return [p.grad.clone() for p in model.encoders.audio.parameters()]

    before = audio_grads()
    with torch.no_grad():  # another visual encoder: audio learns the same
        for p in model.encoders.visual.parameters():
            p.add_(torch.randn_like(p))
    after = audio_grads()
    assert all(torch.equal(a, b) for a, b in zip(before, after))

    # From duc_epoch, the contrast couples them, through D_m^only only.
    model.balancer.set_only_dims(MODS, {
        'audio': torch.tensor([1, 0, 0, 0, 0, 0], dtype=torch.bool),
        'visual': torch.tensor([0, 1, 0, 0, 0, 0], dtype=torch.bool)})
    hub.update_info('epoch', 1)
    assert 'loss_duc' in model.loss(**data)
    grads = audio_grads()
    assert not all(torch.equal(a, b) for a, b in zip(grads, after))


def test_fusion_stage_trains_the_fusion_head_only(hub):
    model = make_model()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                         momentum=0.9, weight_decay=1e-3))
    data = batch()
    hub.update_info('epoch', 0)
    before = snapshot(model)
    model.train_step(data, optim)
    assert any(k.startswith('encoders.') for k in changed(before, model))
    hub.update_info('epoch', 3)
    before = snapshot(model)
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    log = model.train_step(data, optim)
    assert changed(before, model) == {'fusion.fusion_head.weight',
                                      'fusion.fusion_head.bias'}
    assert 'loss_fusion' in log
    assert all(torch.equal(buffers[k], v) for k, v in model.named_buffers())
    assert model.training and model.encoders.audio.training


def test_vote_is_confidence_weighted_and_the_fusion_head_joins_late():
    members = torch.tensor([[[2., 0.], [0., 1.]]])  # (B=1, J=2, K=2)
    valid = torch.tensor([[True, True]])
    conf = members.sigmoid().amax(-1)
    w = (conf / 0.5).softmax(1)
    expected = (w[..., None] * members).sum(1)
    assert torch.allclose(confidence_weighted_sum(members, valid, 0.5),
                          expected)
    only_second = confidence_weighted_sum(members,
                                          torch.tensor([[False, True]]), 0.5)
    assert torch.allclose(only_second, members[:, 1])
    assert torch.equal(confidence_weighted_sum(
        members, torch.tensor([[False, False]]), 0.5), torch.zeros(1, 2))

    model = make_model()
    model.eval()
    feats = model.extract_feat(batch()['inputs'])
    fusion = model.fusion
    singles = fusion.unimodal_logits(feats)
    without_f = fusion(feats)
    assert torch.allclose(without_f, confidence_weighted_sum(
        torch.stack([singles['audio'], singles['visual']], 1),
        torch.ones(16, 2, dtype=torch.bool), 1.0))
    fusion.fusion_head_trained.fill_(True)
    assert not torch.allclose(fusion(feats), without_f)
    # With a modality absent: its head and the joint head cast no vote.
    masked = model.masked_logits(feats, [('audio', )])[('audio', )]
    assert torch.allclose(masked, singles['audio'], atol=1e-6)


def test_refusals():
    with pytest.raises(ValueError, match='feature sizes must be equal'):
        make_model(out_channels={'audio': 6, 'visual': 5})
    make_model(out_channels={'audio': 6, 'visual': 5},
               fusion=dict(type='DetachedInteractiveFusion',
                           shared_head=False))
    with pytest.raises(ValueError, match='before fusion_epoch'):
        DIMMLBalancer(duc_epoch=5, fusion_epoch=5)
    model = make_model(fusion=dict(type='ConcatFusion'))
    model.train()
    with pytest.raises(TypeError, match='DetachedInteractiveFusion'):
        model.loss(**batch())


def test_three_modalities_pull_every_other_one(hub):
    model = make_model(('audio', 'visual', 'text'))
    model.balancer.set_only_dims(model.modalities, {
        m: torch.eye(6, dtype=torch.bool)[i]
        for i, m in enumerate(model.modalities)})
    hub.update_info('epoch', 2)
    losses = model.loss(**batch(modalities=model.modalities))
    assert val(losses['loss_duc']) > 0


def test_two_epoch_run_through_both_stages(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root), 'model.balancer.duc_epoch=0',
                     'model.balancer.fusion_epoch=1',
                     'default_hooks.checkpoint.max_keep_ckpts=2')
    rows = load_scalars(tmp_path)
    assert any('loss_duc' in r for r in rows)
    assert any('loss_fusion' in r for r in rows)
    one = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu',
                     weights_only=False)
    two = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu',
                     weights_only=False)
    one, two = one['state_dict'], two['state_dict']
    assert not bool(one['fusion.fusion_head_trained'])
    assert bool(two['fusion.fusion_head_trained'])
    assert one['balancer.only_dims'].shape[0] == 2
    for k, v in one.items():
        if k.startswith('encoders.'):
            assert torch.equal(v, two[k]), k
    assert not torch.equal(one['fusion.fusion_head.weight'],
                           two['fusion.fusion_head.weight'])

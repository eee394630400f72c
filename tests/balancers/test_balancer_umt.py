"""UMT: the distillation loss, frozen teachers outside the model, zero
distillation when the student is the teacher, clear errors, and a unimodal
ensemble then UMT through tools/train.py."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from torch import nn

from conftest import REPO, tiny_options, train_in_process

from armlab.registry import MODELS
from armlab.utils.scalars import load_scalars

K = 3


class BNEncoder(nn.Module):
    """Linear-BN-ReLU: BatchNorm buffers that train mode would move."""

    def __init__(self, in_channels=4, out_channels=5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_channels, out_channels),
                                 nn.BatchNorm1d(out_channels), nn.ReLU())
        self.out_channels = out_channels

    def forward(self, x):
        return self.net(x)


def model_with(teacher_checkpoint, loss_weight=10.0, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='MultimodalClassifier',
        encoders=dict(audio=dict(type=BNEncoder),
                      visual=dict(type=BNEncoder)),
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(type='UMTBalancer',
                      teacher_checkpoint=teacher_checkpoint,
                      loss_weight=loss_weight),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')))


def batch(n=8):
    g = torch.Generator().manual_seed(2)
    labels = torch.arange(n) % K
    return dict(inputs=dict(audio=torch.randn(n, 4, generator=g),
                            visual=torch.randn(n, 4, generator=g)),
                data_samples=[DataSample().set_gt_label(int(y))
                              for y in labels])


@pytest.fixture
def teacher_ckpt(tmp_path):
    """A checkpoint of another model (seed 1) with both encoders."""
    teacher = model_with('unused', seed=1)
    path = tmp_path / 'best_accuracy_top1_epoch_3.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return tmp_path, teacher


def test_loss_adds_the_weighted_feature_mse(teacher_ckpt):
    work, teacher = teacher_ckpt
    model = model_with(str(work), loss_weight=2.0)  # a work dir: its best
    data = batch()
    model.train()
    model.balancer.before_forward(model, data)
    losses = model.loss(**data)
    teacher.eval()
    with torch.no_grad():
        targets = {m: teacher.encoders[m](data['inputs'][m])
                   for m in ('audio', 'visual')}
    feats = model.extract_feat(data['inputs'])
    expected = 2.0 * sum(F.mse_loss(feats[m], targets[m])
                         for m in ('audio', 'visual'))
    torch.testing.assert_close(losses['loss_distill'], expected)
    assert 'loss_cls' in losses
    # Outside the model: not in its state dict, not among its parameters.
    assert not any('teacher' in k for k in model.state_dict())
    assert len(list(model.parameters())) == len(
        list(model_with('x').parameters()))


def test_a_step_leaves_the_teachers_bit_identical(teacher_ckpt):
    work, _ = teacher_ckpt
    model = model_with(str(work / 'best_accuracy_top1_epoch_3.pth'))
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    model.train_step(batch(), optim)
    teachers = model.balancer.teachers(model)
    before = {m: copy.deepcopy(t.state_dict()) for m, t in teachers.items()}
    for _ in range(3):
        model.train_step(batch(), optim)
    for m, teacher in teachers.items():
        assert not teacher.training
        for key, value in teacher.state_dict().items():
            assert torch.equal(value, before[m][key]), (m, key)
    model.train()  # the balancer's train() keeps the teachers in eval
    assert not any(t.training for t in teachers.values())


def test_student_as_teacher_distils_nothing_at_first(tmp_path):
    model = model_with(str(tmp_path / 'self.pth'))
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'self.pth')
    model.eval()  # the student reads the same BN statistics as the teacher
    data = batch()
    model.balancer.before_forward(model, data)
    losses = model.loss(**data)
    assert float(losses['loss_distill'].detach()) == 0.0
    losses['loss_distill'].backward()
    grads = [p.grad for p in model.encoders.parameters()
             if p.grad is not None]
    assert grads and all(float(g.abs().max()) == 0.0 for g in grads)


def test_errors_name_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match='needs teacher_checkpoint'):
        model_with(None)
    model = model_with(str(tmp_path / 'nowhere.pth'))
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        model.balancer.teachers(model)
    audio_only = model_with('x')
    state = {k: v for k, v in audio_only.state_dict().items()
             if not k.startswith('encoders.visual.')}
    torch.save(dict(state_dict=state), tmp_path / 'audio.pth')
    model = model_with(str(tmp_path / 'audio.pth'))
    with pytest.raises(KeyError, match=r"no encoders\.visual\.\* weights"):
        model.balancer.teachers(model)
    model = model_with(dict(audio=str(tmp_path / 'audio.pth')))
    with pytest.raises(KeyError, match=r"no teacher checkpoint for "
                       r"\['visual'\]"):
        model.balancer.teachers(model)
    model = model_with(str(tmp_path / 'audio.pth'))
    with pytest.raises(RuntimeError, match='before_forward'):
        model.loss(**batch())


def test_unimodal_ensemble_then_umt_run(tiny_root, tmp_path):
    teachers = tmp_path / 'ume'
    opts = tiny_options(tiny_root, epochs=1)
    train_in_process(REPO / 'configs' / 'unimodal_ensemble' /
                     'unimodal_ensemble_resnet18_avdigits.py', teachers,
                     '--cfg-options', *opts)
    work = tmp_path / 'umt'
    train_in_process(REPO / 'configs' / 'umt' / 'umt_resnet18_avdigits.py',
                     work, '--cfg-options', *opts,
                     f'model.balancer.teacher_checkpoint={teachers}')
    rows = load_scalars(work)
    distill = [r['loss_distill'] for r in rows if 'loss_distill' in r]
    assert distill and all(v > 0 for v in distill)
    assert (work / 'epoch_1.pth').is_file()

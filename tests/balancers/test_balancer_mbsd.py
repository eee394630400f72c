"""MBSD: the distillation weights, the loss against its formula (teacher
per sample, a true KL), the teacher receiving no gradient from the KL, the
refusals, and a two-epoch run."""
import pytest
import torch
import torch.nn.functional as F

from conftest import REPO, tiny_options, train_in_process
from helpers.vector_batches import labelled_batch as batch
from helpers.vector_batches import mlp_classifier, samples

from armlab.balancers.mbsd import (MBSDBalancer, distillation_terms,
                                   distillation_weights)
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'mbsd' / 'mbsd_resnet18_avdigits.py'
K = 4  # the helpers' class count


def make_model(modalities=('audio', 'visual'), **balancer):
    return mlp_classifier(dict(dict(type='MBSDBalancer'), **balancer), modalities)


def val(t):
    return float(t.detach())


def test_weights_are_the_true_class_gap_where_someone_is_right():
    p_a = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1]])
    p_v = torch.tensor([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.6, 0.1]])
    y = torch.tensor([0, 3])  # sample 1: neither predicts class 3
    w = distillation_weights(p_a, p_v, y)
    assert w.tolist() == pytest.approx([0.3, 0.0])


def test_loss_is_the_formula_with_the_stronger_modality_teaching():
    model = make_model()
    inputs, y = batch()
    model.train()
    losses = model.loss(inputs, samples(y))
    feats = model.extract_feat(inputs)
    parts = model.fusion.decompose(feats)
    a, v = parts['audio'], parts['visual']
    p_a, p_v = a.softmax(1), v.softmax(1)
    w = distillation_weights(p_a, p_v, y)
    total = 0
    for i in range(len(y)):
        strong, weak = (p_a[i], p_v[i]) if p_a[i, y[i]] >= p_v[i, y[i]] \
            else (p_v[i], p_a[i])
        kl = (strong * (strong.log() - weak.log())).sum()
        total = total + w[i] * ((a[i] - v[i]).pow(2).sum() / K + kl)
    assert val(losses['loss_distill']) == pytest.approx(val(total / len(y)),
                                                        rel=1e-4)
    assert val(losses['loss_audio']) == pytest.approx(
        val(F.cross_entropy(a, y)), rel=1e-5)
    assert 'loss_cls' in losses


def test_the_kl_trains_the_student_of_each_sample_only():
    torch.manual_seed(2)
    a = torch.randn(8, K, requires_grad=True)
    v = torch.randn(8, K, requires_grad=True)
    y = torch.arange(8) % K
    _, _, kl = distillation_terms(a, v, y)
    kl.sum().backward()
    a_teaches = a.softmax(1)[torch.arange(8), y] >= \
        v.softmax(1)[torch.arange(8), y]
    assert 0 < int(a_teaches.sum()) < 8
    teacher_grad = torch.where(a_teaches[:, None], a.grad, v.grad)
    student_grad = torch.where(a_teaches[:, None], v.grad, a.grad)
    assert float(teacher_grad.abs().max()) == 0.0
    assert float(student_grad.abs().sum(1).min()) > 0


def test_refusals():
    model = make_model(('audio', 'visual', 'text'))
    inputs, y = batch(modalities=('audio', 'visual', 'text'))
    model.train()
    with pytest.raises(ValueError, match='exactly two modalities'):
        model.loss(inputs, samples(y))
    with pytest.raises(ValueError, match='score'):
        MBSDBalancer(score='aux')


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    rows = [r for r in load_scalars(tmp_path) if 'loss_distill' in r]
    assert rows and all(r['loss_distill'] >= 0 for r in rows)

"""PMR: prototypes, Euclidean prototype classifier, PCE on the weak modality
only, training-data-only hook, checkpoint state, and a 2-epoch run."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.structures import DataSample

from conftest import REPO, run_tool, tiny_options

from armlab.balancers.pmr import (PMRHook, blend_prototypes, class_sums,
                                  prototype_logits,
                                  weak_modality_coefficients)
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'pmr' / 'pmr_resnet18_avdigits.py'
K = 3


def mlp_model(modalities=('audio', 'visual'), **balancer):
    torch.manual_seed(0)
    encoder = dict(type='MLPEncoder', in_channels=K, out_channels=8,
                   hidden_channels=(8, ))
    return MultimodalClassifier(
        encoders={m: encoder for m in modalities},
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(type='PMRBalancer', alpha=2.0, end_epoch=6,
                      **balancer),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def data(modalities=('audio', 'visual'), n=12, seed=0):
    """Every modality is a clean one-hot of the label plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % K
    onehot = F.one_hot(labels, K).float() * 3
    return {m: onehot + 0.1 * torch.randn(n, K, generator=g)
            for m in modalities}, labels


def set_prototypes(model, inputs, labels, weak='visual'):
    """Class-mean prototypes, except for ``weak``: its class means rolled
    by one class, so that its prototype classifier is mostly wrong."""
    with torch.no_grad():
        feats = model.extract_feat(inputs)
    for m in model.modalities:
        sums, counts = class_sums(feats[m], labels, K)
        if m == weak:
            sums = sums.roll(1, dims=0)
        model.balancer.update_prototypes({m: sums}, counts)


def test_prototypes_are_class_means():
    feats = torch.tensor([[1., 0.], [3., 2.], [0., 4.], [0., 6.], [9., 9.]])
    labels = torch.tensor([0, 0, 1, 1, 0])
    sums, counts = class_sums(feats, labels, num_classes=3)
    protos = blend_prototypes(None, sums, counts, momentum=0.5)
    torch.testing.assert_close(
        protos, torch.tensor([[13 / 3, 11 / 3], [0., 5.], [0., 0.]]))
    # c <- (1 - mu) c_new + mu c_old; class 2 has no sample: kept as is.
    old = torch.tensor([[1., 1.], [1., 1.], [7., 7.]])
    blended = blend_prototypes(old, sums, counts, momentum=0.25)
    torch.testing.assert_close(blended[0], 0.75 * protos[0] + 0.25 * old[0])
    torch.testing.assert_close(blended[2], old[2])


def test_distance_is_euclidean_not_squared():
    h, c = torch.randn(5, 4), torch.randn(3, 4)
    manual = torch.stack([torch.stack([((hi - ck) ** 2).sum().sqrt()
                                       for ck in c]) for hi in h])
    torch.testing.assert_close(prototype_logits(h, c), -manual)


def test_weak_modality_rule():
    # rho > 1 (audio stronger): (beta, lambda) = (0, alpha), and back.
    assert weak_modality_coefficients(torch.tensor([5., 2.]), 2.0).tolist() \
        == [0., 2.]
    assert weak_modality_coefficients(torch.tensor([2., 5.]), 2.0).tolist() \
        == [2., 0.]
    assert weak_modality_coefficients(torch.tensor([3., 3.]), 2.0).tolist() \
        == [0., 0.]
    # M = 3: every modality below the mean.
    assert weak_modality_coefficients(torch.tensor([1., 2., 6.]), 1.0
                                      ).tolist() == [1., 1., 0.]


@pytest.mark.parametrize('weak', ['visual', 'audio'])
def test_pce_trains_the_weak_modality_only(weak):
    model = mlp_model()
    inputs, labels = data()
    set_prototypes(model, inputs, labels, weak=weak)
    strong = 'audio' if weak == 'visual' else 'visual'
    losses = model.loss(inputs, samples(labels))
    assert (losses['pmr_ratio'] > 1) == (weak == 'visual')
    assert float(losses[f'pmr_coeff_{strong}']) == 0
    assert float(losses[f'pmr_coeff_{weak}']) == 2.0
    assert losses[f'pmr_prob_{weak}'] < losses[f'pmr_prob_{strong}']
    feats = model.extract_feat(inputs)
    expected = 2.0 * F.cross_entropy(
        -torch.cdist(feats[weak], model.balancer.prototypes(weak)), labels)
    torch.testing.assert_close(losses['loss_pce'], expected)
    model.zero_grad()
    losses['loss_pce'].backward()
    for p in model.encoders[strong].parameters():
        assert p.grad is None or not p.grad.any()
    assert all(p.grad is not None and p.grad.any()
               for p in model.encoders[weak].parameters())
    # Prototypes are buffers: no gradient, but in the state dict.
    assert 'balancer.prototypes_visual' in model.state_dict()
    assert not any('prototypes' in n for n, _ in model.named_parameters())


def test_no_pce_outside_the_window():
    model = mlp_model(start_epoch=1)
    inputs, labels = data()
    set_prototypes(model, inputs, labels)
    losses = model.loss(inputs, samples(labels))
    assert 'loss_pce' not in losses and 'pmr_ratio' in losses
    assert float(losses['pmr_coeff_visual']) == 0


def test_three_modalities_and_a_missing_hook():
    model = mlp_model(('audio', 'visual', 'text'))
    inputs, labels = data(model.modalities)
    with pytest.raises(RuntimeError, match='PMRHook'):
        model.loss(inputs, samples(labels))
    set_prototypes(model, inputs, labels, weak='text')
    losses = model.loss(inputs, samples(labels))
    assert 'pmr_ratio' not in losses
    assert [float(losses[f'pmr_coeff_{m}']) for m in model.modalities] == \
        [0.0, 0.0, 2.0]


def test_checkpoint_state_loads_into_a_fresh_model():
    model = mlp_model()
    set_prototypes(model, *data())
    fresh = mlp_model()
    fresh.load_state_dict(model.state_dict())  # strict
    torch.testing.assert_close(fresh.balancer.prototypes_audio,
                               model.balancer.prototypes_audio)
    assert int(fresh.balancer.num_updates) == 2


def test_hook_refuses_the_validation_split():
    cfg = Config.fromfile(str(CONFIG))

    class Runner:
        pass

    runner = Runner()
    runner.cfg = cfg
    with pytest.raises(ValueError, match='training data only'):
        PMRHook(dataloader='val_dataloader')._subset_loader(runner, 0)
    with pytest.raises(ValueError, match='fraction'):
        PMRHook(fraction=0)


@pytest.mark.e2e
def test_two_epoch_training(tiny_root, tmp_path):
    # All 60 training samples (val and test hold 20 each) are read per pass.
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', tmp_path,
                    '--cfg-options', *tiny_options(tiny_root),
                    'custom_hooks.0.fraction=1.0')
    log = proc.stdout + proc.stderr
    for when in ('before training', 'after epoch 1', 'after epoch 2'):
        assert f'PMR prototypes {when} from 60 training samples' in log
    rows = load_scalars(tmp_path)
    steps = [r for r in rows if 'pmr_ratio' in r]
    assert steps and all(r['pmr_ratio'] > 0 for r in steps)
    # In the window, exactly one modality gets alpha (or none on a tie).
    for r in steps:
        coeffs = sorted([r['pmr_coeff_audio'], r['pmr_coeff_visual']])
        assert coeffs in ([0.0, 2.0], [0.0, 0.0])
    assert any('loss_pce' in r for r in rows)
    assert any('pmr/prototype_shift_audio' in r for r in rows)
    assert any('accuracy/top1' in r for r in rows)
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert state['balancer.prototypes_audio'].shape == (10, 32)
    assert state['balancer.prototypes_visual'].shape == (10, 32)
    assert int(state['balancer.num_updates']) == 3

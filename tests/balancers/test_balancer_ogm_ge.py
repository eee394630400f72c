"""OGM-GE: coefficients, which gradients it touches, the noise, the window,
errors, and a two-epoch run through tools/train.py."""
import copy
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample
from torch import nn

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.ogm_ge import conv_kernels, ogm_coefficients
from armlab.registry import MODELS
from armlab.utils.scalars import epoch_series, load_scalars

CONFIG = REPO / 'configs' / 'ogm_ge' / 'ogm-ge_resnet18_avdigits.py'
NUM_CLASSES = 4


class TinyConv(nn.Module):
    """conv-BN-ReLU-conv-pool: conv kernels, BN and nothing else."""

    def __init__(self, in_channels: int = 1, out_channels: int = 8):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1), nn.BatchNorm2d(8),
            nn.ReLU(), nn.Conv2d(8, out_channels, 3, padding=1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out_channels = out_channels

    def forward(self, x):
        return self.layers(x)


CHANNELS = dict(audio=1, visual=3, depth=1)


def tiny_model(modalities=('audio', 'visual'), fusion='ConcatFusion',
               **balancer):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MultimodalClassifier',
        encoders={m: dict(type=TinyConv, in_channels=CHANNELS[m])
                  for m in modalities},
        fusion=dict(type=fusion), num_classes=NUM_CLASSES,
        balancer=dict(type='OGMGEBalancer', **balancer),
        data_preprocessor=dict(type='MultimodalDataPreprocessor',
                               modalities={m: dict() for m in modalities})))


def audio_dominant_batch(model, batch_size=16):
    """Inputs and labels on which audio is dominant: the fusion reads audio
    strongly and vision barely, and the labels are audio's predictions."""
    torch.manual_seed(1)
    inputs = {m: torch.randn(batch_size, CHANNELS[m], 6, 6)
              for m in model.modalities}
    fc = model.fusion.fc
    with torch.no_grad():
        fc.bias.zero_()
        fc.weight.mul_(0.01)
        fc.weight[:, :8].mul_(1000)  # the audio block
        feats = model.extract_feat(inputs)
        labels = model.fusion.decompose(feats)['audio'].argmax(1)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return inputs, samples


def grads_after_step(model, inputs, samples, modulate=True):
    model.zero_grad()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    if modulate:
        model.balancer.after_backward(model)
    return {n: p.grad.clone() for n, p in model.named_parameters()
            if p.grad is not None}, losses


@pytest.fixture
def epoch():
    """Set the epoch that the balancer reads; back to 0 afterwards."""
    hub = MessageHub.get_current_instance()
    yield lambda e: hub.update_info('epoch', e)
    hub.update_info('epoch', 0)


def test_coefficients_dominant_below_one_other_exactly_one():
    ratios, k = ogm_coefficients(torch.tensor([12.0, 4.0]), alpha=0.8)
    assert ratios.tolist() == pytest.approx([3.0, 1 / 3])
    assert k[0].item() == pytest.approx(1 - math.tanh(2.4), rel=1e-5)
    assert k[1].item() == 1.0
    # An exact tie: the official code's else branch modulates audio (the
    # first modality) with 1 - tanh(alpha), visual keeps 1.
    ratios, k = ogm_coefficients(torch.tensor([5.0, 5.0]), alpha=0.8)
    assert k.tolist() == pytest.approx([1 - math.tanh(0.8), 1.0], rel=1e-5)
    # M = 3: rho_m = s_m / mean of the others.
    ratios, k = ogm_coefficients(torch.tensor([6.0, 2.0, 2.0]), alpha=0.8)
    assert ratios.tolist() == pytest.approx([3.0, 0.5, 0.5])
    assert k.tolist() == pytest.approx([1 - math.tanh(2.4), 1.0, 1.0],
                                     rel=1e-5)


def test_ogm_scales_only_the_dominant_conv_kernels(epoch):
    epoch(0)
    model = tiny_model(mode='OGM', alpha=0.8, end_epoch=4)
    inputs, samples = audio_dominant_batch(model)
    plain = copy.deepcopy(model)
    got, losses = grads_after_step(model, inputs, samples)
    ref, _ = grads_after_step(plain, inputs, samples, modulate=False)
    k_audio = losses['ogm_coeff_audio'].item()
    assert losses['ogm_ratio'].item() > 1
    assert 0 < k_audio < 1 and losses['ogm_coeff_visual'].item() == 1.0
    audio_kernels = {id(p) for p in conv_kernels(model.encoders['audio'])}
    scaled = 0
    for name, p in model.named_parameters():
        if id(p) in audio_kernels:
            torch.testing.assert_close(got[name], k_audio * ref[name])
            assert not torch.equal(got[name], ref[name])
            scaled += 1
        else:  # visual kernels, every BN, the fusion head
            assert torch.equal(got[name], ref[name]), name
    assert scaled == 2


def test_ogm_ge_adds_noise_of_the_unscaled_gradient_std(epoch):
    epoch(0)
    model = tiny_model(mode='OGM-GE', alpha=0.8)
    inputs, samples = audio_dominant_batch(model)
    plain = copy.deepcopy(model)
    got, losses = grads_after_step(model, inputs, samples)
    ref, _ = grads_after_step(plain, inputs, samples, modulate=False)
    kernels = {id(p) for m in model.modalities
               for p in conv_kernels(model.encoders[m])}
    for name, p in model.named_parameters():
        if id(p) not in kernels:
            assert torch.equal(got[name], ref[name]), name
            continue
        m = name.split('.')[1]
        k = losses[f'ogm_coeff_{m}'].item()
        noise = got[name] - k * ref[name]
        # Noise on both encoders, as large as the gradient before scaling
        # (the audio kernels are scaled by k << 1).
        assert 0.7 < (noise.std() / ref[name].std()).item() < 1.3, name
    assert losses['ogm_coeff_audio'].item() < 0.1


def test_nothing_changes_outside_the_window(epoch):
    epoch(4)
    model = tiny_model(mode='OGM-GE', start_epoch=0, end_epoch=4)
    inputs, samples = audio_dominant_batch(model)
    plain = copy.deepcopy(model)
    got, losses = grads_after_step(model, inputs, samples)
    ref, _ = grads_after_step(plain, inputs, samples, modulate=False)
    assert losses['ogm_coeff_audio'].item() < 1  # logged all the same
    assert got.keys() == ref.keys()
    assert all(torch.equal(got[n], ref[n]) for n in got)


def test_three_modalities(epoch):
    epoch(0)
    model = tiny_model(('audio', 'visual', 'depth'))
    inputs = {m: torch.randn(8, CHANNELS[m], 6, 6) for m in model.modalities}
    samples = [DataSample().set_gt_label(i % NUM_CLASSES) for i in range(8)]
    got, losses = grads_after_step(model, inputs, samples)
    coeffs = [losses[f'ogm_coeff_{m}'].item() for m in model.modalities]
    assert all(0 < k <= 1 for k in coeffs)
    assert all(torch.isfinite(g).all() for g in got.values())


def test_non_decomposable_fusion_needs_score_mask(epoch):
    epoch(0)
    model = tiny_model(fusion='FiLMFusion')
    inputs = {m: torch.randn(4, CHANNELS[m], 6, 6) for m in model.modalities}
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    with pytest.raises(ValueError, match="FiLMFusion is not decomposable"):
        model.loss(inputs, samples)
    model = tiny_model(fusion='FiLMFusion', score='mask')
    got, losses = grads_after_step(model, inputs, samples)
    assert 'ogm_coeff_visual' in losses


def test_bad_arguments():
    with pytest.raises(ValueError, match='mode'):
        tiny_model(mode='OGM_GE')
    with pytest.raises(ValueError, match='score'):
        tiny_model(score='aux')


def test_two_epoch_run(tiny_root, tmp_path):
    train_in_process(CONFIG, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root))
    assert (tmp_path / 'epoch_2.pth').is_file()
    rows = load_scalars(tmp_path)
    coeffs = [(r['ogm_coeff_audio'], r['ogm_coeff_visual']) for r in rows
              if 'ogm_coeff_audio' in r]
    assert len(coeffs) == 8  # 2 epochs x 4 iterations, logged every one
    assert all(0 < k <= 1 for pair in coeffs for k in pair)
    assert min(min(pair) for pair in coeffs) < 1
    assert all('ogm_ratio' in r for r in rows if 'ogm_coeff_audio' in r)
    epochs, _ = epoch_series(rows, 'accuracy/top1')
    assert epochs == [1, 2]

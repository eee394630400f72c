"""Sample-level modality valuation (Wei et al., CVPR 2024): the correctness
game's Shapley values, the copy tables of both levels, the hook on a tiny
model (both levels), its checkpoint state, and a 2-epoch run through
tools/train.py (resumed after epoch 1) whose second epoch grows."""
import itertools
import math
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from conftest import REPO, run_tool, tiny_options

from armlab.balancers.modality_valuation import (
    ModalityValuationHook, copies_from_shapley, correctness_game,
    correctness_shapley, modality_level_items, resample_count,
    sample_level_items)
from armlab.datasets.samplers import ResamplingSampler
from armlab.evaluation.valuation import shapley_values
from armlab.models import MultimodalClassifier
from armlab.utils.scalars import epoch_series, load_scalars

CONFIGS = REPO / 'configs' / 'modality_valuation'
SAMPLE = CONFIGS / 'valuation-sample_resnet18_avdigits.py'
AV = ('audio', 'visual')
K = 4


def mlp_model(modalities=AV, seed=0):
    torch.manual_seed(seed)
    encoder = dict(type='MLPEncoder', in_channels=K, out_channels=8,
                   hidden_channels=(8, ))
    return MultimodalClassifier(
        encoders={m: encoder for m in modalities},
        fusion=dict(type='ConcatFusion'), num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')).eval()


# ------------------------------------------------------------- valuation
def test_shapley_equals_the_card_for_every_outcome():
    # Rows: every combination of (fused, audio-only, visual-only) correct.
    outcomes = torch.tensor(list(itertools.product([0, 1], repeat=3)),
                            dtype=torch.bool)
    fused, a, v = outcomes.T
    correct = {AV: fused, ('audio', ): a, ('visual', ): v}
    phi = shapley_values(correctness_game(correct, AV), AV)
    card_a = (a.float() + 2 * fused.float() - v.float()) / 2
    card_v = (v.float() + 2 * fused.float() - a.float()) / 2
    torch.testing.assert_close(phi['audio'], card_a)
    torch.testing.assert_close(phi['visual'], card_v)
    assert set(torch.cat([card_a, card_v]).tolist()) == \
        {-0.5, 0.0, 0.5, 1.0, 1.5}
    torch.testing.assert_close(phi['audio'] + phi['visual'],
                               2 * fused.float())  # efficiency


def test_shapley_on_the_masked_heads_of_a_model():
    model = mlp_model()
    g = torch.Generator().manual_seed(1)
    feats = {m: torch.randn(64, 8, generator=g) for m in AV}
    labels = torch.randint(0, K, (64, ), generator=g)
    phi = correctness_shapley(model, feats, labels)
    with torch.no_grad():
        logits = model.masked_logits(feats)
    hit = {s: (z.argmax(1) == labels).float() for s, z in logits.items()}
    expected_a = (hit[('audio', )] + 2 * hit[AV] - hit[('visual', )]) / 2
    torch.testing.assert_close(phi[:, 0], expected_a)
    torch.testing.assert_close(phi.sum(1), 2 * hit[AV])


def test_shapley_with_three_modalities():
    modalities = ('audio', 'visual', 'text')
    model = mlp_model(modalities)
    g = torch.Generator().manual_seed(2)
    feats = {m: torch.randn(128, 8, generator=g) for m in modalities}
    labels = torch.randint(0, K, (128, ), generator=g)
    phi = correctness_shapley(model, feats, labels)
    with torch.no_grad():
        fused = model.masked_logits(feats, [modalities])[modalities]
    torch.testing.assert_close(phi.sum(1),
                               3 * (fused.argmax(1) == labels).float())
    sixths = phi * 6  # exact values are multiples of 1/6 for M = 3
    torch.testing.assert_close(sixths, sixths.round())


# ------------------------------------------------------------ copy tables
def test_copy_counts_per_bin():
    phi = np.array([-0.5, -0.11, -0.1, -0.09, 0.0, 0.4, 0.41, 0.5, 0.89,
                    0.9, 0.95, 1.0, 1.5, np.nan])
    expected = [3, 3, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0]
    assert copies_from_shapley(phi).tolist() == expected
    # The values of the two-modality game: -0.5 .. 1.5 -> 3, 2, 1, 0, 0.
    assert copies_from_shapley([-0.5, 0, 0.5, 1, 1.5]).tolist() == \
        [3, 2, 1, 0, 0]


def test_sample_level_copies_train_the_weak_modality_alone():
    phi = np.array([[-0.5, 1.5],   # audio contributes nothing: 3 audio-alone
                    [1.0, 0.5],    # 1 visual-alone
                    [0.0, 0.0],    # 2 of each
                    [1.5, 1.0],    # none
                    [np.nan, np.nan]])  # not valued: none
    indices, masks = sample_level_items(phi)
    items = list(zip(indices.tolist(), map(tuple, masks.tolist())))
    audio_alone, visual_alone = (True, False), (False, True)
    # Ordered by sample, then modality.
    assert items == [(0, audio_alone)] * 3 + [(1, visual_alone)] + \
        [(2, audio_alone)] * 2 + [(2, visual_alone)] * 2
    # Through the sampler: the epoch holds each sample once plus exactly
    # these copies, with two different masks for sample 2.
    sampler = ResamplingSampler(list(range(5)), seed=0)
    sampler.set_extra_items(indices, masks)
    assert Counter(sampler) == Counter(list(range(5)) + items)


def test_modality_level_count_and_masked_modality():
    rng = np.random.default_rng(0)
    # Audio above its fair share, visual below: gaps -0.2 and 0.4.
    indices, masks, gaps = modality_level_items(np.array([1.2, 0.6]), 1000,
                                                1.0, rng)
    np.testing.assert_allclose(gaps, [-0.2, 0.4])
    assert len(indices) == 400  # (2/3) * 0.6 * 1000, in exact arithmetic
    assert (masks == [False, True]).all()  # audio masked: visual alone
    assert indices.min() >= 0 and indices.max() < 1000
    assert len(np.unique(indices)) < 400  # drawn with replacement
    _, masks, _ = modality_level_items(np.array([0.3, 1.5]), 90, 0.5, rng)
    assert len(masks) == 36  # (2/3) * 1.2 * 0.5 * 90
    assert (masks == [True, False]).all()  # visual masked: audio alone
    assert len(modality_level_items(np.array([1.0, 1.0]), 50, 1.0,
                                    rng)[0]) == 0
    assert resample_count([0.0, 0.6], 100, 1.0, 'tanh') == \
        math.floor(math.tanh(0.4) * 100)
    assert resample_count([0.0, 0.6], 100, 2.0, 'square') == \
        math.floor(0.4**1.5 * 2 * 100)
    with pytest.raises(ValueError, match='two'):
        resample_count([0.1, 0.2, 0.3], 100, 1.0)


# ------------------------------------------------------------------- hook
def fake_runner(modalities=AV, sampler=None):
    model = SimpleNamespace(modalities=modalities)
    loader = SimpleNamespace(
        sampler=sampler or ResamplingSampler(list(range(6)), seed=0))
    return SimpleNamespace(model=model, train_dataloader=loader)


def test_hook_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match='level'):
        ModalityValuationHook(level='dataset')
    with pytest.raises(ValueError, match='func'):
        ModalityValuationHook(func='cubic')
    hook = ModalityValuationHook(level='modality')
    with pytest.raises(ValueError, match='exactly two modalities'):
        hook.before_train(fake_runner(('audio', 'visual', 'text')))
    sampler = SimpleNamespace()  # e.g. a DefaultSampler
    with pytest.raises(TypeError, match='ResamplingSampler'):
        ModalityValuationHook().before_train(fake_runner(sampler=sampler))


def test_hook_tells_the_sampler_the_batch_size():
    # So that a plan never leaves a last training batch of one item, which
    # BatchNorm cannot train on.
    runner = fake_runner()
    runner.train_dataloader.batch_size = 4
    ModalityValuationHook().before_train(runner)
    sampler = runner.train_dataloader.sampler
    assert sampler.batch_size == 4
    sampler.set_extra_items([0, 1, 2], [[True, False]] * 3)  # 6 + 3 = 9
    assert len(sampler) == 8 and sampler.plan_stats()['left_out'] == 1


def test_hook_restores_its_plan_from_a_checkpoint():
    runner = fake_runner()
    sampler = runner.train_dataloader.sampler
    sampler.set_extra_items([1, 1, 4], [[True, False], [False, True],
                                        [True, False]])
    hook = ModalityValuationHook()
    hook._plan = sampler.state_dict()
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    resumed, fresh = ModalityValuationHook(), fake_runner()
    resumed.after_load_checkpoint(fresh, checkpoint)
    resumed.before_train(fresh)
    restored = fresh.train_dataloader.sampler
    assert len(restored) == 9
    assert list(restored) == list(sampler)


class _Recorder:
    """Stands in for the runner's visualizer and logger."""

    def __init__(self):
        self.scalars, self.lines = {}, []

    def add_scalars(self, scalars, step):
        self.scalars[step] = scalars

    def info(self, line):
        self.lines.append(line)


class _Features(torch.utils.data.Dataset):
    """In-memory (audio, visual) inputs with labels and sample indices."""

    def __init__(self, inputs, labels):
        self.inputs, self.labels = inputs, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        sample = DataSample(metainfo=dict(sample_idx=i))
        return dict(inputs={m: x[i] for m, x in self.inputs.items()},
                    data_samples=sample.set_gt_label(int(self.labels[i])))


def _collate(batch):
    return dict(inputs={m: torch.stack([b['inputs'][m] for b in batch])
                        for m in batch[0]['inputs']},
                data_samples=[b['data_samples'] for b in batch])


def audio_dominant_run(n=96, seed=0):
    """A model trained a little on data where audio is clean and vision
    noisy, and a runner whose valuation loader reads that data."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % K
    onehot = torch.nn.functional.one_hot(labels, K).float()
    inputs = dict(audio=onehot * 3 + 0.1 * torch.randn(n, K, generator=g),
                  visual=onehot + 1.5 * torch.randn(n, K, generator=g))
    model = mlp_model().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    for _ in range(40):
        loss = model.loss(inputs, samples)['loss_cls']
        opt.zero_grad()
        loss.backward()
        opt.step()
    data = _Features(inputs, labels)
    runner = SimpleNamespace(
        model=model, epoch=1, seed=0, cfg=dict(train_eval_dataloader=dict(dataset={})),
        build_dataloader=lambda cfg, seed: torch.utils.data.DataLoader(
            data, batch_size=16, collate_fn=_collate),
        train_dataloader=SimpleNamespace(
            sampler=ResamplingSampler(data, seed=0)),
        visualizer=_Recorder(), logger=_Recorder())
    with torch.no_grad():
        phi = correctness_shapley(model.eval(), model.extract_feat(inputs),
                                  labels).numpy()
    model.train()
    return runner, phi


def test_sample_level_hook_plans_from_every_training_sample():
    runner, phi = audio_dominant_run()
    hook = ModalityValuationHook(level='sample', warmup_epochs=3)
    hook.before_train(runner)
    hook.after_train_epoch(runner)  # epoch 1 < warmup - 1: nothing yet
    sampler = runner.train_dataloader.sampler
    assert not sampler.has_plan and not runner.visualizer.scalars
    runner.epoch = 2
    hook.after_train_epoch(runner)
    indices, masks = sample_level_items(phi)
    assert sampler.extra_items() == [
        (i, tuple(m)) for i, m in zip(indices.tolist(), masks.tolist())]
    assert runner.model.training  # eval mode only for the pass
    scalars = runner.visualizer.scalars[3]
    assert scalars['valuation/shapley_audio'] == pytest.approx(
        phi[:, 0].mean())
    assert scalars['valuation/shapley_audio'] > \
        scalars['valuation/shapley_visual']
    # Audio dominates: most copies train vision alone.
    assert scalars['valuation/copies_visual'] > \
        2 * scalars['valuation/copies_audio']
    assert scalars['valuation/epoch_length'] == 96 + len(indices) == \
        len(sampler)
    assert scalars['valuation/left_out'] == 0  # no batch size given
    assert 'plan for epoch 4' in runner.logger.lines[0]


def test_modality_level_hook_values_a_subset_and_masks_audio():
    runner, phi = audio_dominant_run()
    hook = ModalityValuationHook(level='modality', warmup_epochs=1,
                                 part_ratio=0.5, alpha=1.0, seed=3)
    hook.before_train(runner)
    hook.after_train_epoch(runner)
    # The hook's draw of Z (with replacement), repeated here.
    subset = np.random.default_rng([3, 1]).choice(96, 48, replace=True)
    valued = ~np.isnan(hook._phi).any(axis=1)
    assert valued.sum() == len(np.unique(subset)) < 48  # only Z is loaded
    mean_phi = phi[subset].mean(axis=0)
    gaps = 1 - mean_phi
    assert gaps[0] < gaps[1]  # audio is above its fair share
    scalars = runner.visualizer.scalars[2]
    assert scalars['valuation/gap_visual'] == pytest.approx(gaps[1])
    extra = runner.train_dataloader.sampler.extra_items()
    assert len(extra) == resample_count(gaps, 96, 1.0) > 0
    assert {mask for _, mask in extra} == {(False, True)}  # vision alone
    assert scalars['valuation/masked_audio'] == len(extra)


# ------------------------------------------------------------- end to end
#: Training samples of the end-to-end run: a part of the tiny build's 60,
#: because the copies make the second epoch several times longer.
NUM_TRAIN = 24


def options(root, warmup=1, **hook):
    return [*tiny_options(root, epochs=2),
            f'train_dataloader.dataset.indices={NUM_TRAIN}',
            f'custom_hooks.0.warmup_epochs={warmup}',
            *[f'custom_hooks.0.{k}={v}' for k, v in hook.items()]]


def epoch_iterations(rows, epoch):
    return sum(1 for r in rows if r.get('epoch') == epoch and 'iter' in r)


@pytest.mark.e2e
def test_sample_level_run_grows_the_epoch_and_resumes(tiny_root, tmp_path):
    # Epoch 1, valued at its end; then resumed for epoch 2, which must train
    # on the copies planned after epoch 1 (restored from the checkpoint).
    proc = run_tool('tools/train.py', SAMPLE, '--work-dir', tmp_path,
                    '--cfg-options', *options(tiny_root),
                    'train_cfg.max_epochs=1')
    assert f'Modality valuation (sample level) after epoch 1 on {NUM_TRAIN} ' \
        'training samples; plan for epoch 2' in proc.stdout + proc.stderr
    state = torch.load(tmp_path / 'epoch_1.pth',
                       weights_only=False)['modality_valuation_hook']
    assert state['level'] == 'sample'
    masks = np.array(state['plan']['extra_masks'])
    assert (masks.sum(1) == 1).all()  # every copy: one modality alone
    proc = run_tool('tools/train.py', SAMPLE, '--work-dir', tmp_path,
                    '--resume', '--cfg-options', *options(tiny_root))
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    rows = load_scalars(tmp_path)
    for m in AV:
        assert epoch_series(rows, f'valuation/shapley_{m}')[0] == [1, 2]
    extra = epoch_series(rows, 'valuation/extra_copies')[1]
    length = epoch_series(rows, 'valuation/epoch_length')[1]
    copies = [epoch_series(rows, f'valuation/copies_{m}')[1] for m in AV]
    assert extra[0] == copies[0][0] + copies[1][0] == len(masks) > 0
    assert length[0] == NUM_TRAIN + extra[0]
    # Batches of 16: epoch 1 is the plain samples, epoch 2 has the copies.
    assert epoch_iterations(rows, 1) == math.ceil(NUM_TRAIN / 16)
    assert epoch_iterations(rows, 2) == math.ceil(length[0] / 16) > \
        math.ceil(NUM_TRAIN / 16)
    assert epoch_series(rows, 'accuracy/top1')[0] == [1, 2]
    assert (tmp_path / 'epoch_2.pth').exists()

"""Diagnosing & Re-learning: purity, the strength, the exact blend, the
schedule of diagnoses, and a run through tools/train.py that re-initialises
and resumes with its initial parameters."""
import numpy as np
import pytest
import torch

from conftest import REPO, tiny_options, train_in_process

from armlab.balancers.diagnose_relearn import (DiagnoseRelearnHook,
                                               cluster_purity, minmax_scale,
                                               relearn_strength, soft_reinit)

CONFIG = (REPO / 'configs' / 'diagnose_relearn' /
          'diagnose-relearn_resnet18_avdigits.py')


def test_purity_of_separated_and_of_unrelated_clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 30)
    centres = np.array([[0, 0], [10, 0], [0, 10]], dtype=float)
    separated = centres[labels] + 0.1 * rng.standard_normal((90, 2))
    assert cluster_purity(separated, labels, 3) == 1.0
    shuffled = rng.permutation(labels)  # clusters say nothing of the label
    assert cluster_purity(separated, shuffled, 3) < 0.6
    # Scaling: each column to [-1, 1], a constant column to 0.
    scaled = minmax_scale(np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]]))
    assert scaled.tolist() == [[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]


def test_strength_and_the_blend_are_exact():
    assert relearn_strength(0.0, 3.0) == 0.0
    assert relearn_strength(0.2, 3.0) == pytest.approx(np.tanh(0.6))
    torch.manual_seed(0)
    params = [torch.randn(3, 2), torch.randn(4)]
    init = [torch.randn(3, 2), torch.randn(4)]
    before = [p.clone() for p in params]
    soft_reinit(params, init, 0.0)  # no gap: unchanged
    assert all(torch.equal(p, b) for p, b in zip(params, before))
    soft_reinit(params, init, 0.25)
    for p, b, p0 in zip(params, before, init):
        assert torch.allclose(p, 0.25 * p0 + 0.75 * b)


def test_diagnoses_run_every_few_epochs_at_most_max_times():
    hook = DiagnoseRelearnHook(reinit_every=2, max_reinits=3)
    assert [e for e in range(12) if hook.due(e)] == [2, 4, 6]
    assert not DiagnoseRelearnHook(reinit_every=1, max_reinits=0).due(1)
    with pytest.raises(ValueError, match='reinit_every'):
        DiagnoseRelearnHook(reinit_every=0)


def test_a_run_reinitialises_and_keeps_the_initial_parameters(tiny_root,
                                                              tmp_path):
    opts = [*tiny_options(tiny_root, epochs=3),
            'custom_hooks.0.reinit_every=1', 'custom_hooks.0.max_reinits=1',
            'default_hooks.checkpoint.max_keep_ckpts=3']
    train_in_process(CONFIG, tmp_path / 'run', '--cfg-options', *opts)
    log = next((tmp_path / 'run').rglob('*.log')).read_text()
    lines = [line for line in log.splitlines()
             if 'Diagnose & re-learn before epoch' in line]
    assert len(lines) == 2  # epoch 1 only, audio and visual
    assert all('before epoch 1' in line for line in lines)
    ckpt = torch.load(tmp_path / 'run' / 'epoch_1.pth', map_location='cpu',
                      weights_only=False)
    init = ckpt[DiagnoseRelearnHook.CHECKPOINT_KEY]
    assert set(init) == {'audio', 'visual'}
    first = [k for k in ckpt['state_dict'] if k.startswith('encoders.audio')
             and 'running' not in k and 'num_batches' not in k][0]
    # The initial weights differ from the trained ones they are kept beside.
    assert init['audio'][0].shape == ckpt['state_dict'][first].shape
    assert not torch.equal(init['audio'][0], ckpt['state_dict'][first])
    # Resumed from epoch 1, the run re-initialises towards the same weights.
    resumed = tmp_path / 'resumed'
    train_in_process(CONFIG, resumed, '--resume', '--cfg-options', *opts,
                     f'load_from={tmp_path / "run" / "epoch_1.pth"}')
    last = torch.load(resumed / 'epoch_3.pth', map_location='cpu',
                      weights_only=False)
    for a, b in zip(last[DiagnoseRelearnHook.CHECKPOINT_KEY]['audio'],
                    init['audio']):
        assert torch.equal(a, b)
    full = torch.load(tmp_path / 'run' / 'epoch_3.pth', map_location='cpu',
                      weights_only=False)
    for key, value in full['state_dict'].items():
        assert torch.allclose(value.float(),
                              last['state_dict'][key].float(), atol=1e-5), key

"""Determinism: a run killed in the middle of an epoch and resumed ends
exactly where an uninterrupted run ends, whatever the number of workers.

ARM is the hardest case: its re-sampling plan, contributions and feature
weights live in checkpoints and hooks, and its sampler draws per epoch.
"""
import os
import subprocess
import sys

import pytest
import torch

from conftest import REPO, tiny_options

from armlab.utils.scalars import epoch_series, load_scalars

pytestmark = pytest.mark.e2e

CONFIG = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'
ITERS_PER_EPOCH = 4  # 60 tiny training samples, batches of 16


def train(work, options, *extra, expect=0, config=CONFIG):
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO / 'tests' / 'helpers'),
                                           os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work), *extra, '--cfg-options', *options],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == expect, proc.stderr[-3000:]
    return proc


def options(root, workers):
    # Warm-up of one epoch, so that the plan and the feature weights act.
    return [*tiny_options(root, epochs=3),
            'model.balancer.feature_weights.start_epoch=1',
            'custom_hooks.0.warmup_epochs=1',
            f'train_dataloader.num_workers={workers}',
            f'train_dataloader.persistent_workers={workers > 0}']


def test_kill_mid_epoch_and_resume_matches_an_uninterrupted_run(
        tiny_root, tmp_path):
    straight = tmp_path / 'straight'
    train(straight, options(tiny_root, workers=2))

    killed = tmp_path / 'killed'
    crashing = tmp_path / 'crashing.py'
    crashing.write_text(
        f"_base_ = '{CONFIG}'\n"
        "custom_imports = dict(imports=['crash_hook'])\n"
        "custom_hooks = _base_.custom_hooks + [dict(\n"
        f"    type='CrashAtIterHook', at_iter={ITERS_PER_EPOCH + 2})]\n")
    train(killed, options(tiny_root, workers=0), expect=3, config=crashing)
    assert (killed / 'epoch_1.pth').is_file()
    assert not (killed / 'epoch_2.pth').exists()
    proc = train(killed, options(tiny_root, workers=0), '--resume')
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr

    a = torch.load(straight / 'epoch_3.pth', weights_only=False)
    b = torch.load(killed / 'epoch_3.pth', weights_only=False)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][key], value, rtol=0,
                                   atol=1e-6, msg=key)
    assert a['arm_hook']['plan'] == b['arm_hook']['plan']
    _, acc_a = epoch_series(load_scalars(straight), 'accuracy/top1')
    _, acc_b = epoch_series(load_scalars(killed), 'accuracy/top1')
    assert acc_a[-1] == acc_b[-1]

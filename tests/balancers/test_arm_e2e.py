"""ARM through tools/train.py: valuation, re-sampling, logging, checkpoint
state, resume and the plot tool, on a tiny AV-Digits build."""
import pytest
import torch

from conftest import REPO, run_tool, tiny_options

from armlab.utils.scalars import epoch_series, load_scalars

pytestmark = pytest.mark.e2e

CONFIG = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'


def arm_options(root, epochs=2, subset=1.0):
    # Warm-up of one epoch, so that the valuation, the re-sampling plan and
    # the feature weights all act within two epochs.
    return [*tiny_options(root, epochs=epochs),
            'model.balancer.feature_weights.start_epoch=1',
            'custom_hooks.0.warmup_epochs=1',
            f'custom_hooks.0.subset={subset}']


@pytest.fixture(scope='module')
def arm_run(tiny_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('arm')
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', work,
                    '--cfg-options', *arm_options(tiny_root))
    return work, proc.stdout + proc.stderr


def test_arm_logs_contributions_weights_and_sampling(arm_run):
    work, log = arm_run
    assert 'ARM valuation after epoch 1 on 60 training samples' in log
    assert 'ARM re-sampling plan for epoch 2' in log
    rows = load_scalars(work)
    for key in ('arm/shapley_audio', 'arm/shapley_share_visual',
                'arm/mi_audio', 'arm/cmi_visual', 'arm/weight_audio',
                'arm/pointwise_cmi_visual', 'arm/loss_weight_visual',
                'arm/guard_paused', 'arm/masked_fraction'):
        epochs, values = epoch_series(rows, key)
        assert epochs == [1, 2], key
    shares = [epoch_series(rows, f'arm/shapley_share_{m}')[1][-1]
              for m in ('audio', 'visual')]
    assert sum(shares) == pytest.approx(1.0)
    # The min-max loss weights of the next epoch are softmax(-CMI / 0.25).
    cmi = torch.tensor([epoch_series(rows, f'arm/pointwise_cmi_{m}')[1][0]
                        for m in ('audio', 'visual')])
    weights = [epoch_series(rows, f'arm/loss_weight_{m}')[1][0]
               for m in ('audio', 'visual')]
    torch.testing.assert_close(torch.tensor(weights),
                               torch.softmax(-cmi / 0.25, 0), atol=1e-4,
                               rtol=0)
    assert any('loss_minmax' in r for r in rows)
    assert any('arm_weight_visual' in r for r in rows)


def test_checkpoint_holds_weights_and_plan(arm_run):
    work, _ = arm_run
    ckpt = torch.load(work / 'epoch_2.pth', weights_only=False)
    state = ckpt['state_dict']
    assert state['modality_weights'].shape == (2, )
    assert state['balancer.contributions'].shape == (2, )
    assert state['balancer.loss_weights'].shape == (2, )
    assert ckpt['arm_hook']['valued_at'] == [1] * 60  # all valued at epoch 1
    plan = ckpt['arm_hook']['plan']
    assert len(plan['repeats']) == 60
    assert max(plan['repeats']) == 3 and min(plan['repeats']) == 1


def test_arm_resumes_with_its_plan(tiny_root, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py', CONFIG, '--work-dir', work, '--cfg-options',
             *arm_options(tiny_root), 'train_cfg.max_epochs=1')
    plan = torch.load(work / 'epoch_1.pth', weights_only=False)['arm_hook']
    assert plan['plan'] is not None
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', work, '--resume',
                    '--cfg-options', *arm_options(tiny_root, subset=0.5))
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in log
    # Only the chosen half of the training set is loaded and valued.
    assert 'ARM valuation after epoch 2 on 30 training samples' in log


def test_test_tool_and_plot(arm_run, tiny_root, tmp_path):
    work, _ = arm_run
    proc = run_tool('tools/test.py', CONFIG, work / 'epoch_2.pth',
                    '--work-dir', tmp_path, '--cfg-options',
                    *tiny_options(tiny_root))
    assert "'accuracy/top1'" in proc.stdout
    out = tmp_path / 'arm.png'
    run_tool('tools/analysis/plot_arm.py', work, '--out', out)
    assert out.stat().st_size > 10_000


def test_step_valuation_needs_no_pass(tiny_root, tmp_path):
    """valuation='steps': the values of the epoch's training steps, no
    valuation loader; the first epoch (a plain one) values every sample,
    the re-sampled second only those drawn with both modalities."""
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', tmp_path,
                    '--cfg-options', *arm_options(tiny_root),
                    'custom_hooks.0.valuation=steps')
    log = proc.stdout + proc.stderr
    assert ("ARM valuation after epoch 1 on 60 training samples (the "
            "epoch's training steps)") in log
    assert "after epoch 2 on " in log
    assert log.count('train.json cached in shared memory') == 1
    ckpt = torch.load(tmp_path / 'epoch_2.pth', weights_only=False)
    valued_at = ckpt['arm_hook']['valued_at']
    assert set(valued_at) <= {0, 1} and 1 in valued_at


def test_held_out_valuation_reads_the_part_never_trained_on(tiny_root,
                                                            tmp_path):
    """value_on='held_out': training sees 75 % of the 60 training pairs; the
    dataset-level MI / CMI come from the other 15, re-sampling still ranks
    the 45; without a held-out part the hook says what to set."""
    leaf = tmp_path / 'arm_held_out.py'
    leaf.write_text(
        f'_base_ = {str(CONFIG)!r}\n'
        'train_dataloader = dict(dataset=dict(\n'
        "    holdout=dict(fraction=0.25, seed=0, part='train')))\n")
    proc = run_tool('tools/train.py', leaf, '--work-dir', tmp_path / 'a',
                    '--cfg-options', *arm_options(tiny_root),
                    'custom_hooks.0.value_on=held_out')
    log = proc.stdout + proc.stderr
    assert ('ARM valuation after epoch 1 on 15 training samples (held-out '
            'part of the training split)') in log
    ckpt = torch.load(tmp_path / 'a' / 'epoch_2.pth', weights_only=False)
    assert len(ckpt['arm_hook']['valued_at']) == 45
    bad = run_tool('tools/train.py', CONFIG, '--work-dir', tmp_path / 'b',
                   '--cfg-options', *arm_options(tiny_root),
                   'custom_hooks.0.value_on=held_out', check=False)
    assert bad.returncode != 0
    assert 'holdout=dict(fraction=0.1' in bad.stdout + bad.stderr

"""tools/train.py and tools/test.py end to end, as subprocesses.

One tiny AV-Digits build is shared by the module; every run trains width-4
encoders for at most 2 epochs, so the module takes about a minute on 2 cores.
"""
import pickle

import pytest

from conftest import REPO, TINY_BUILD, run_tool, tiny_options

from armlab.utils.scalars import load_scalars

pytestmark = pytest.mark.e2e

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


@pytest.fixture(scope='module')
def trained(tiny_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('work')
    run_tool('tools/train.py', CONFIG, '--work-dir', work, '--cfg-options',
             *tiny_options(tiny_root))
    return work


def test_train_leaves_logs_config_checkpoints_and_scalars(trained):
    assert (trained / 'joint_concat_resnet18_avdigits.py').is_file()
    assert (trained / 'epoch_2.pth').is_file()
    assert len(list(trained.glob('best_accuracy_top1_epoch_*.pth'))) == 1
    assert list(trained.glob('*/*.log'))
    rows = load_scalars(trained)
    val = [r for r in rows if 'accuracy/top1' in r]
    assert [r['step'] for r in val] == [1, 2]  # step = epoch for validation rows
    for key in ('f1/macro', 'acc_audio_mask', 'acc_visual_mask',
                'acc_audio_decomp'):
        assert key in val[-1]
    assert any('loss_cls' in r for r in rows)


def test_test_tool_reproduces_last_validation(trained, tiny_root, tmp_path):
    last_val = [r for r in load_scalars(trained) if 'accuracy/top1' in r][-1]
    out = tmp_path / 'preds.pkl'
    proc = run_tool('tools/test.py', CONFIG, trained / 'epoch_2.pth',
                    '--work-dir', tmp_path / 'test', '--out', out,
                    '--cfg-options', *tiny_options(tiny_root))
    assert f"'accuracy/top1': {last_val['accuracy/top1']}" in proc.stdout
    preds = pickle.loads(out.read_bytes())
    assert len(preds) == TINY_BUILD['num_val']
    assert 'pred_score' in preds[0]


def test_test_tool_evaluates_the_test_split(trained, tiny_root, tmp_path):
    out = tmp_path / 'preds.pkl'
    proc = run_tool('tools/test.py', CONFIG, trained / 'epoch_2.pth',
                    '--split', 'test', '--work-dir', tmp_path / 'test',
                    '--out', out, '--cfg-options', *tiny_options(tiny_root))
    assert 'test metrics' in proc.stdout
    preds = pickle.loads(out.read_bytes())
    assert {p['sample_id'] for p in preds} == {
        f'test_{i:06d}' for i in range(TINY_BUILD['num_test'])
    }


def test_resume_continues_from_the_last_checkpoint(tiny_root, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py', CONFIG, '--work-dir', work, '--cfg-options',
             *tiny_options(tiny_root), 'train_cfg.max_epochs=1')
    assert (work / 'epoch_1.pth').is_file()
    assert not (work / 'epoch_2.pth').exists()
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', work, '--resume',
                    '--cfg-options', *tiny_options(tiny_root))
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in log
    assert 'Epoch(train) [1]' not in log  # epoch 1 is not trained again
    assert 'Epoch(train) [2]' in log
    assert (work / 'epoch_2.pth').is_file()


def test_unknown_config_key_names_the_key(tiny_root, tmp_path):
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', tmp_path,
                    '--cfg-options', 'train_cfg.max_epoch=1', check=False)
    assert proc.returncode != 0
    assert 'train_cfg.max_epoch' in proc.stderr


def test_missing_config_and_checkpoint_are_named(tmp_path):
    proc = run_tool('tools/train.py', tmp_path / 'nope.py', check=False)
    assert proc.returncode != 0 and 'nope.py' in proc.stderr
    proc = run_tool('tools/test.py', CONFIG, tmp_path / 'missing.pth',
                    check=False)
    assert proc.returncode != 0 and 'missing.pth' in proc.stderr

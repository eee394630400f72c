"""Two-process training on CPU (gloo) through tools/dist_train.sh."""
import subprocess

from conftest import REPO, tiny_options

CONFIG = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'


def test_two_process_arm_training(tiny_root, tmp_path):
    opts = [*tiny_options(tiny_root),
            'model.balancer.feature_weights.start_epoch=1',
            'custom_hooks.0.warmup_epochs=1', 'custom_hooks.0.subset=1.0']
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(CONFIG), '2', '--work-dir',
         str(tmp_path), '--cfg-options', *opts],
        cwd=REPO, capture_output=True, text=True, timeout=900,
        env={**__import__('os').environ, 'PORT': '29517'})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    # Every rank's share is gathered: all 60 samples are valued, and each
    # of the two ranks draws half of the re-sampled epoch.
    assert 'ARM valuation after epoch 2 on 60 training samples' in log
    assert "'epoch_length': 60, 'num_samples': 30" in log
    assert (tmp_path / 'epoch_2.pth').is_file()

"""The benchmark scripts of benchmarks/ run end to end (``--quick``) and
write the JSON that benchmarks/README.md describes.

``--quick`` sizes are smoke runs, not measurements, so values are only
checked to be sane (positive rates and ratios, consistent bookkeeping). The
scripts run as a user runs them, in a subprocess, with pyproject.toml's warning
filters: a warning in a script, or in a child process it starts, fails.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.e2e

BENCHMARKS = REPO / 'benchmarks'
#: pyproject.toml's filterwarnings, for the scripts and the processes they start.
WARNINGS = ('error,ignore:Fail to import:UserWarning,'
            'ignore::DeprecationWarning,ignore::PendingDeprecationWarning')
ENVIRONMENT_KEYS = ('machine', 'cpu_count', 'torch_threads', 'torch',
                    'mmengine', 'seed', 'args', 'load_average_at_start',
                    'load_average_at_end')


def run_quick(script: str, out: Path, *options, threads=None) -> dict:
    """``python benchmarks/SCRIPT --quick --out OUT ...``; its JSON.
    ``threads``: OMP_NUM_THREADS of the script (default: the suite's)."""
    env = dict(os.environ, PYTHONWARNINGS=WARNINGS)
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), '--quick', '--out',
         str(out), *map(str, options)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f'{script} failed:\n{proc.stderr[-4000:]}'
    with open(out) as f:
        result = json.load(f)
    missing = [k for k in ENVIRONMENT_KEYS if k not in result]
    assert not missing, f'{script} JSON lacks {missing}'
    assert result['args']['quick'] is True
    return result


def bench_module():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import balancer_cost
    finally:
        sys.path.remove(str(BENCHMARKS))
    return balancer_cost


def test_method_discovery_takes_each_method_default():
    methods = bench_module().method_configs()
    names = {path.name for path in methods.values()}
    assert methods['arm'].name == 'arm_resnet18_avdigits.py'
    assert not any('visual-dominant' in n for n in names)
    # The references (each modality alone, joint training) are no methods;
    # the unimodal ensemble, a balancer of its own, is one.
    folders = {path.parent.name for path in methods.values()}
    assert not folders & {'unimodal', 'joint', '_base_'}
    assert 'unimodal_ensemble' in folders
    # A directory with a visual-dominant twin gives exactly that config.
    for folder in {p.parent for p in methods.values()}:
        twins = list(folder.glob('*_resnet18_avdigits-visual-dominant.py'))
        chosen = [p for p in methods.values() if p.parent == folder]
        if len(twins) == 1:
            assert [p.name for p in chosen] == [
                twins[0].name.replace('-visual-dominant', '')]


def test_balancer_cost_reports_every_method_and_failures(tmp_path):
    joint = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
    # One config that cannot build, one that builds but cannot step.
    (tmp_path / 'no-build_resnet18_avdigits.py').write_text(
        f"_base_ = '{joint}'\n"
        "model = dict(balancer=dict(_delete_=True, type='NoSuchBalancer'))\n")
    (tmp_path / 'no-step_resnet18_avdigits.py').write_text(
        f"_base_ = '{joint}'\nmodel = dict(num_classes=3)\n")
    result = run_quick('balancer_cost.py', tmp_path / 'cost.json',
                       '--extra-configs',
                       tmp_path / 'no-build_resnet18_avdigits.py',
                       tmp_path / 'no-step_resnet18_avdigits.py')
    rows = result['methods']
    expected = {'joint', 'no-build', 'no-step',
                *bench_module().method_configs()}
    assert set(rows) == expected
    assert rows['joint']['ratio_over_joint'] == 1.0
    for name in ('joint', 'arm'):
        assert rows[name]['status'] == 'ok', rows[name]
    for name, row in rows.items():
        if row['status'] == 'ok':
            assert row['step_ms'] > 0 and row['samples_per_s'] > 0, name
            assert row['ratio_over_joint'] > 0, name
        else:
            assert row['status'].startswith('failed: '), name
    assert rows['no-build']['status'].startswith('failed: KeyError')
    assert 'NoSuchBalancer' in rows['no-build']['status']
    assert rows['no-step']['status'].startswith('failed: ')
    assert 'model' in rows['no-step']  # it built; the step failed


def test_runner_throughput(tmp_path):
    result = run_quick('runner_throughput.py', tmp_path / 'runner.json')
    throughput = result['throughput']
    assert throughput['bare_samples_per_s'] > 0
    assert throughput['runner_samples_per_s'] > 0
    assert throughput['ratio_runner_over_bare'] > 0
    assert throughput['same_initialisation'] is True
    args = result['args']
    # Iterations after the warm-up, all of them timed.
    iterations = args['samples'] // args['batch'] * args['epochs']
    assert throughput['timed_samples_per_run'] == \
        (iterations - args['warmup']) * args['batch']


def test_data_loading(tmp_path):
    result = run_quick('data_loading.py', tmp_path / 'loading.json',
                       '--data-root', tmp_path / 'avdigits')
    assert result['data']['reused'] is False
    assert result['data']['build']['num_train'] == result['args']['num_train']
    assert result['shapes_match_other_benchmarks'] is True
    assert result['model']['samples_per_s'] > 0
    # The builder writes the spectrogram cache, so all three paths ran.
    assert set(result['pipelines']) == {'batched', 'per_sample',
                                        'cached_spectrograms'}
    # What the model receives has the same shapes whatever the path.
    assert len({str(s) for s in result['packed_shapes'].values()}) == 1
    for front_end, rows in result['pipelines'].items():
        assert set(rows) == {'workers_0', 'workers_1', 'workers_2'}
        for row in rows.values():
            assert row['samples_per_s'] > 0, front_end
            assert row['samples_per_s_with_startup'] > 0, front_end
            assert row['ratio_over_model'] > 0, front_end
    assert isinstance(result['meets_target'], bool)


def test_peak_memory(tmp_path):
    result = run_quick('peak_memory.py', tmp_path / 'memory.json')
    rows = result['memory']['cpu']
    assert set(rows) == {'joint', 'arm'}
    for name, row in rows.items():
        assert row['status'] == 'ok', row
        assert 0 < row['rss_after_imports_mb'] <= row['rss_after_build_mb'] \
            <= row['peak_rss_mb'], name
        assert row['parameters'] > 0
        assert row['peak_rss_ratio_over_joint'] > 0
    assert rows['arm']['balancer'] == 'ARMBalancer'


def test_end_to_end(tiny_root, tmp_path):
    result = run_quick('end_to_end.py', tmp_path / 'e2e.json',
                       '--data-root', tiny_root)
    assert result['data_root'] == str(tiny_root)
    cases = {'joint_old', 'joint_new', 'arm_old', 'arm_new', 'arm_new_steps'}
    assert set(result['wall_s']) == cases == set(result['test'])
    for case, metrics in result['test'].items():
        # Trained and tested through the tools: real accuracies over the 20
        # test samples of the tiny build, so multiples of 5 %.
        assert 0 <= metrics['accuracy/top1'] <= 100, case
        assert metrics['accuracy/top1'] % 5 == pytest.approx(0, abs=1e-6)
        assert metrics['acc_visual_mask'] is not None, case
    wall = result['wall_s']
    assert result['ratio_new_over_old_joint'] == \
        wall['joint_new'] / wall['joint_old']
    assert result['ratio_arm_over_joint_new'] == \
        wall['arm_new'] / wall['joint_new']
    assert result['ratio_arm_steps_over_joint_new'] == \
        wall['arm_new_steps'] / wall['joint_new']
    assert set(result['meets_targets']) == {'ratio_new_over_old_joint',
                                            'ratio_arm_over_joint_new'}


def test_gpu_throughput_smoke(tmp_path):
    # Two threads: on one, torch 2.14.1's CPU backward of the channels-last
    # case crashes the process now and then (an internal assert in
    # THPVariable_clear, or a segfault), with this code and the code before
    # it; on a GPU the script does not run that CPU path.
    result = run_quick('gpu_throughput.py', tmp_path / 'gpu.json', threads=2)
    assert result['device_name'] == 'cpu'
    assert set(result['train']) == {'fp32_contiguous', 'fp32_channels_last',
                                    'amp_contiguous', 'amp_channels_last'}
    for case, rows in result['train'].items():
        for method, row in rows.items():
            if case.startswith('amp'):
                assert row == 'skipped: AMP needs CUDA'
            else:
                assert row['samples_per_s'] > 0, (case, method)
    front = result['front_end']
    assert front['avdigits_logmel_with_noise']['output_shape'] == \
        [4, 1, 64, 51]
    assert front['cremad_log_stft']['output_shape'] == [4, 1, 257, 188]

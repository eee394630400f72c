"""Linear probes of frozen encoders: the fit, and the tool end to end."""
import json

import numpy as np
import pytest

from conftest import REPO, run_tool, tiny_options, train_in_process

from armlab.evaluation.linear_probe import probe_accuracy, probe_modalities


def blobs(n, classes, dim, spread, rng):
    labels = rng.integers(0, classes, n)
    centres = rng.normal(0, 1, (classes, dim)) * 3
    return centres[labels] + rng.normal(0, spread, (n, dim)), labels


def test_probe_separates_blobs_and_not_noise():
    rng = np.random.default_rng(0)
    x, y = blobs(600, 5, 16, 0.5, rng)
    assert probe_accuracy(x[:400], y[:400], x[400:], y[400:]) > 95
    noise = rng.normal(size=(600, 16))
    acc = probe_accuracy(noise[:400], y[:400], noise[400:], y[400:])
    assert acc < 40  # chance is 20 %


def test_probe_per_modality_and_errors():
    rng = np.random.default_rng(1)
    x, y = blobs(300, 3, 8, 0.3, rng)
    noise = rng.normal(size=x.shape)
    out = probe_modalities({'audio': x[:200], 'visual': noise[:200]}, y[:200],
                           {'audio': x[200:], 'visual': noise[200:]}, y[200:])
    assert out['probe_audio'] > 90 > out['probe_visual']
    with pytest.raises(ValueError, match='two classes'):
        probe_accuracy(x[:5], np.zeros(5, int), x[5:9], y[5:9])


@pytest.mark.e2e
def test_linear_probe_tool(tiny_root, tmp_path):
    config = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
    opts = tiny_options(tiny_root, epochs=1)
    train_in_process(config, tmp_path,
                     '--cfg-options', *opts)
    out = tmp_path / 'probe.json'
    proc = run_tool('tools/analysis/linear_probe.py', config,
                    tmp_path / 'epoch_1.pth', '--out', out,
                    '--cfg-options', *opts)
    result = json.loads(out.read_text())
    printed = json.loads(proc.stdout.split('linear probe: ', 1)[1]
                         .splitlines()[0])
    assert printed == result
    assert result['num_train'] == 60 and result['num_test'] == 20
    for m in ('audio', 'visual'):
        # An accuracy over 20 test samples is a multiple of 5 %.
        assert 0 <= result[f'probe_{m}'] <= 100
        assert result[f'probe_{m}'] % 5 == pytest.approx(0, abs=1e-6)

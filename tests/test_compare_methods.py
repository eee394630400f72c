"""tools/analysis/compare_methods.py end to end on tiny AV-Digits: train,
test at the best-validation checkpoint, one table and plot per preset."""
import json
import re

import pytest

from conftest import REPO, run_tool, tiny_options

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


def test_compare_two_presets(tiny_root, tmp_path):
    out = tmp_path / 'table.md'
    proc = run_tool('tools/analysis/compare_methods.py', CONFIG,
                    '--seeds', '0', '--presets', 'audio-dominant',
                    'visual-dominant', '--work-root', tmp_path / 'runs',
                    '--out', out, '--cfg-options',
                    *tiny_options(tiny_root, epochs=1))
    text = out.read_text()
    assert '## Preset: audio-dominant' in text
    assert '## Preset: visual-dominant' in text
    for preset in ('audio-dominant', 'visual-dominant'):
        assert (tmp_path / f'table_{preset}.png').stat().st_size > 1000
        result = json.loads((tmp_path / 'runs' / preset /
                             'joint_concat_resnet18_avdigits' / 'seed0' /
                             'compare_result.json').read_text())
        shares = [result['test/shapley_share_audio'],
                  result['test/shapley_share_visual']]
        # Shares sum to 100 % unless a one-epoch model's heads all agree.
        assert sum(shares) == pytest.approx(100.0) or shares == [0.0, 0.0]
        assert 0 <= result['test/accuracy/top1'] <= 100
        assert result['best_epoch'] == 1 and result['wall_per_epoch_s'] > 0
    rows = [line for line in text.splitlines()
            if line.startswith('| joint_concat')]
    assert len(rows) == 2
    # Columns: test top-1, F1, audio, visual, two shares, val, s/epoch.
    assert all(len(re.findall(r'\|', r)) == 11 for r in rows)
    assert 'audio Shapley share' in text
    assert '[compare] joint_concat_resnet18_avdigits seed 0' in proc.stdout


def test_a_method_with_a_preset_variant_uses_it():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'compare_methods', REPO / 'tools' / 'analysis' / 'compare_methods.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    amst = str(REPO / 'configs' / 'amst' / 'amst-alt_resnet18_avdigits.py')
    assert tool.config_for(amst, 'visual-dominant').endswith(
        'amst-alt_resnet18_avdigits-visual-dominant.py')
    assert tool.config_for(amst, None) == amst
    assert tool.config_for(str(CONFIG), 'visual-dominant') == str(CONFIG)

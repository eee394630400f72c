"""tools/data/check_dataset.py: counts, shapes and sample drawings on tiny
AV-Digits; missing and corrupt files named on a tiny Food-101 copy."""
import json

from conftest import REPO, tiny_options
from helpers.raw_text_media import (make_raw_food101, run_script,
                                    tiny_text_options)

TOOL = 'tools/data/check_dataset.py'


def test_avdigits_counts_shapes_and_drawings(tiny_root, tmp_path):
    config = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
    code, stdout = run_script(TOOL, config, '--split', 'val',
                              '--num-samples', 3, '--out', tmp_path,
                              '--no-progress', '--cfg-options',
                              *tiny_options(tiny_root))
    assert code == 0
    assert '[val] 20 samples, 10 classes' in stdout
    assert 'zero=2' in stdout and 'nine=2' in stdout
    assert '[val] input audio: (1, 64, 51) float32 x20' in stdout
    assert '[val] input visual: (3, 1, 32, 32) float32 x20' in stdout
    assert 'all good' in stdout
    report = json.loads((tmp_path / 'report.json').read_text())['splits']
    assert report['val']['missing'] == report['val']['unreadable'] == []
    assert (tmp_path / 'samples_val.png').stat().st_size > 1000
    assert 'samples_val.png' in (tmp_path / 'report.md').read_text()


def test_missing_and_corrupt_files_are_named(tiny_root, tmp_path):
    raw = make_raw_food101(tiny_root, tmp_path / 'raw',
                           per_class={'train': 4, 'test': 2})
    root = tmp_path / 'food101'
    run_script('tools/data/prepare_food101.py', '--raw', raw, '--out', root,
               '--val-size', 3, '--no-progress')
    (raw / 'images' / 'test' / 'ramen' / 'ramen_0.jpg').unlink()
    (raw / 'images' / 'test' / 'sushi' / 'sushi_1.jpg').write_bytes(
        b'\xff\xd8 truncated')
    (root / 'text' / 'train').iterdir().__next__().unlink()
    config = (REPO / 'configs' / 'joint' /
              'joint_concat_resnet18_transformer_food101.py')
    out = tmp_path / 'check'
    code, stdout = run_script(
        TOOL, config, '--num-samples', 2, '--out', out, '--no-progress',
        '--cfg-options', *tiny_text_options(root, {'train': 4, 'test': 3},
                                            {'train': 1, 'test': 1}))
    assert code == 1
    assert '[test] missing files: 1' in stdout
    assert 'test_ramen_0 visual:' in stdout and 'ramen_0.jpg' in stdout
    assert '[test] unreadable samples: 1' in stdout
    assert 'test_sushi_1: OSError' in stdout and 'sushi_1.jpg' in stdout
    assert '[train] missing files: 1' in stdout
    assert '[test] input text: (32,) int64 x4' in stdout
    assert '[test] input visual: (3, 1, 32, 32) uint8 x4' in stdout
    report = json.loads((out / 'report.json').read_text())['splits']
    assert [m['sample_id'] for m in report['test']['missing']] == [
        'test_ramen_0']
    assert report['train']['missing'][0]['key'] == 'text'
    assert report['test']['counts'] == {'apple_pie': 2, 'ramen': 2,
                                        'sushi': 2}
    for split in ('train', 'val', 'test'):
        assert (out / f'samples_{split}.png').is_file()

"""tools/analysis/diagnose.py: the references it trains and the headrooms
it reports from them."""
import json

import pytest

from conftest import REPO, load_tool, run_tool, tiny_options

JOINT = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


def load_diagnose():
    return load_tool('tools/analysis/diagnose.py')


def test_the_weak_modality_is_the_largest_gap_not_the_lowest_masked():
    # The all-real AV-Digits pattern: audio lowest inside joint training,
    # vision the one it starves (4 against 24 points below alone).
    tool = load_diagnose()
    joint = {'val/accuracy/top1': 85.0, 'val/acc_audio_mask': 53.0,
             'val/acc_visual_mask': 67.0}
    ensemble = {'val/accuracy/top1': 88.0, 'val/acc_audio_mask': 57.0,
                'val/acc_visual_mask': 91.0}
    d = tool.diagnosis(joint, ensemble, ['audio', 'visual'])
    assert d['weak_modality'] == 'visual' and d['masked_headroom'] == 24.0


def test_headrooms_from_the_two_references():
    tool = load_diagnose()
    joint = {'val/accuracy/top1': 80.0, 'val/acc_audio_mask': 75.0,
             'val/acc_visual_mask': 40.0, 'val/shapley_share_audio': 70.0,
             'val/shapley_share_visual': 30.0}
    ensemble = {'val/accuracy/top1': 88.0, 'val/acc_audio_mask': 78.0,
                'val/acc_visual_mask': 65.0}
    d = tool.diagnosis(joint, ensemble, ['audio', 'visual'])
    assert d['weak_modality'] == 'visual'
    assert d['fused_headroom'] == 8.0
    assert d['masked_headroom'] == 25.0
    text = tool.report(d, 'python tools/analysis/diagnose.py cfg.py')
    assert '| fused top-1 | 80.0 | 88.0 | +8.0 |' in text
    assert '| visual (masked / alone) | 40.0 | 65.0 | +25.0 |' in text
    assert 'a balancing method has room' in text


def test_schedule_shrinks_with_the_epochs():
    from mmengine.config import Config
    tool = load_diagnose()
    cfg = Config.fromfile(str(JOINT))
    assert tool.schedule_options(cfg, 3) == ['train_cfg.max_epochs=3',
                                             'param_scheduler.0.end=3']
    assert tool.schedule_options(cfg, None) == []


def test_a_balanced_config_is_refused():
    from mmengine.config import Config
    tool = load_diagnose()
    arm = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'
    with pytest.raises(ValueError, match='ARMBalancer'):
        tool.check_joint(Config.fromfile(str(arm)), str(arm))


@pytest.mark.e2e
def test_diagnose_end_to_end(tiny_root, tmp_path):
    run_tool('tools/analysis/diagnose.py', JOINT, '--work-dir', tmp_path,
             '--cfg-options', *tiny_options(tiny_root, epochs=1))
    d = json.loads((tmp_path / 'diagnosis.json').read_text())
    runs = {name: json.loads((tmp_path / name /
                              'compare_result.json').read_text())
            for name in ('joint', 'unimodal_ensemble')}
    joint, ens = runs['joint'], runs['unimodal_ensemble']
    assert d['weak_modality'] in ('audio', 'visual')
    weak = d['weak_modality']
    assert d['fused_headroom'] == pytest.approx(
        ens['val/accuracy/top1'] - joint['val/accuracy/top1'])
    assert d['masked_headroom'] == pytest.approx(
        ens[f'val/acc_{weak}_mask'] - joint[f'val/acc_{weak}_mask'])
    # Validation only: the diagnosis never evaluates the test split.
    assert not any(k.startswith('test/') for k in joint)
    assert (tmp_path / 'curves.png').stat().st_size > 1000
    assert 'Verdict:' in (tmp_path / 'diagnosis.md').read_text()

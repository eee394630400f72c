"""tools/data/prepare_ucf51.py on a tiny UCF-101 (UCF-101/<Class>/*.avi and
ucfTrainTestlist/): a class without sound is found by decoding and dropped,
validation is carved from train by whole groups, a truncated video is
reported."""
import json

import pytest

from conftest import run_tool
from helpers.raw_media import (check_prepared, read_through_config, corrupt, digit_clips, load_tool,
                               mtimes, train_one_epoch, write_video)

CLASSES = ['ApplyEyeMakeup', 'Drumming', 'PlayingCello']
SILENT = 'ApplyEyeMakeup'  # made without audio track
GROUPS = (8, 9, 10, 1)  # the last one goes to the test list


def name(label: int, i: int) -> str:
    return f'v_{CLASSES[label]}_g{GROUPS[i]:02d}_c01'


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = tmp_path_factory.mktemp('ucf_raw') / 'UCF101'
    train, test = [], []
    for label, items in digit_clips(tiny_root, 4).items():
        for i, clip in enumerate(items):
            rel = f'{CLASSES[label]}/{name(label, i)}.avi'
            write_video(raw / 'UCF-101' / rel, clip,
                        with_audio=CLASSES[label] != SILENT)
            if i < 3:
                train.append(f'{rel} {label + 1}\n')
            else:
                test.append(f'{rel}\n')
    corrupt(raw / 'UCF-101' / f'{CLASSES[2]}/{name(2, 0)}.avi')
    lists = raw / 'ucfTrainTestlist'
    lists.mkdir()
    (lists / 'classInd.txt').write_text(
        ''.join(f'{i + 1} {c}\n' for i, c in enumerate(CLASSES)))
    (lists / 'trainlist01.txt').write_text(''.join(train))
    (lists / 'testlist01.txt').write_text(''.join(test))
    out = tmp_path_factory.mktemp('ucf51')
    args = ('tools/data/prepare_ucf51.py', '--raw', raw, '--out', out,
            '--val-fraction', 0.3, '--workers', 2, '--no-progress')
    proc = run_tool(*args)
    return out, proc


def test_only_classes_with_audio_are_kept(prepared):
    out, proc = prepared
    kept = CLASSES[1:]
    lists = check_prepared(out, kept, {'train': 4, 'val': 1, 'test': 2},
                           spec_shape=(129, 626))
    assert {e['sample_id'] for e in lists['test']} == {name(1, 3),
                                                       name(2, 3)}
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['classes_with_audio'] == kept
    assert meta['classes_without_audio'] == [SILENT]
    assert meta['audio_fraction'] == {SILENT: 0.0, 'Drumming': 1.0,
                                      'PlayingCello': 1.0}
    assert '2 classes with audio, 1 without (51 expected' in proc.stdout


def test_val_is_carved_from_train_by_whole_groups(prepared):
    out, _ = prepared
    lists = check_prepared(out, CLASSES[1:],
                           {'train': 4, 'val': 1, 'test': 2})
    groups = {split: {(e['gt_label'], e['group']) for e in entries}
              for split, entries in lists.items()}
    assert not groups['train'] & groups['val']
    assert all(e['group'] in GROUPS[:3] for e in lists['val'])


def test_truncated_video_is_reported(prepared):
    out, _ = prepared
    failures = json.loads((out / 'failures.json').read_text())
    assert [(f['stage'], f['key']) for f in failures] == [
        ('audio probe', name(2, 0))]
    assert len(mtimes(out, ('audio/*/*.wav', ))) == 7


def test_missing_class_index_is_named(tmp_path):
    tool = load_tool('prepare_ucf51')
    with pytest.raises(FileNotFoundError, match='classInd.txt not found'):
        tool.main(['--raw', str(tmp_path), '--out', str(tmp_path / 'out')])


@pytest.mark.e2e
def test_one_training_epoch_on_the_prepared_data(prepared, tmp_path):
    train_one_epoch('ucf51', prepared[0], tmp_path, train_batch=4)


def test_the_dataset_config_reads_the_prepared_clips(prepared):
    inputs = read_through_config(prepared[0], 'ucf51')['inputs']
    assert tuple(inputs['audio'].shape[-2:]) == (129, 626)
    assert inputs['visual'].shape[1] == 3  # (C, T, H, W): the config's T

"""tools/data/prepare_kinetics_sounds.py on a tiny Kinetics-400-style copy
(train/<class>/<youtube_id>_<start>_<end>.mp4) with split lists, one
truncated video and one listed clip never downloaded; then one training
epoch. The folder mode (no lists) is checked at the split level."""
import argparse
import json

import pytest

from conftest import run_tool
from helpers.raw_media import (check_prepared, read_through_config, corrupt, digit_clips, load_tool,
                               train_one_epoch, write_video)

KS_CLASSES = load_tool('prepare_kinetics_sounds').KS_CLASSES
NAMES = {0: 'playing bagpipes', 1: 'ripping paper', 2: 'tapping pen'}


def ytid(label: int, i: int) -> str:
    return f'yt{label}{i}-abc_de'  # 11 characters, as on YouTube


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = tmp_path_factory.mktemp('ks_raw')
    train, test = ['youtube_id,label\n'], []
    for label, items in digit_clips(tiny_root, 3).items():
        folder = NAMES[label].replace(' ', '_')
        for i, clip in enumerate(items):
            write_video(raw / 'kinetics400' / 'train' / folder /
                        f'{ytid(label, i)}_000010_000020.mp4', clip)
            row = f'{ytid(label, i)},{NAMES[label]}\n'
            (train if i < 2 else test).append(row)
    corrupt(raw / 'kinetics400' / 'train' / 'tapping_pen' /
            f'{ytid(2, 2)}_000010_000020.mp4')
    test.append('gone-00000A,tapping pen\n')  # listed, never downloaded
    (raw / 'train.csv').write_text(''.join(train))
    (raw / 'test.csv').write_text(''.join(test))
    out = tmp_path_factory.mktemp('ks')
    run_tool('tools/data/prepare_kinetics_sounds.py', '--raw',
             raw / 'kinetics400', '--out', out, '--train-list',
             raw / 'train.csv', '--test-list', raw / 'test.csv', '--workers',
             2, '--no-progress')
    return out


def test_lists_are_kept_and_val_carved_from_train(prepared):
    lists = check_prepared(prepared, KS_CLASSES,
                           {'train': 5, 'val': 1, 'test': 2},
                           spec_shape=(128, 1024))
    assert len(KS_CLASSES) == 31
    test_ids = {e['youtube_id'] for e in lists['test']}
    assert test_ids == {ytid(0, 2), ytid(1, 2)}
    assert lists['val'][0]['youtube_id'] in {ytid(label, i) for label in
                                             NAMES for i in (0, 1)}
    names = {KS_CLASSES[e['gt_label']] for e in lists['train']}
    assert names == set(NAMES.values())


def test_broken_and_missing_videos_are_reported(prepared):
    failures = json.loads((prepared / 'failures.json').read_text())
    assert [f['key'] for f in failures] == [f'{ytid(2, 2)}_000010_000020']
    assert failures[0]['error'].startswith('MediaError: cannot open')
    assert (prepared / 'missing_videos.txt').read_text() == 'gone-00000A\n'


def test_folder_mode_keeps_ks_classes_and_uses_k400_val_as_test(tmp_path):
    tool = load_tool('prepare_kinetics_sounds')
    for split, n in (('train', 10), ('val', 2)):
        for folder in ('playing_bagpipes', 'Tapping Pen', 'juggling balls'):
            (tmp_path / split / folder).mkdir(parents=True)
            for i in range(n):
                (tmp_path / split / folder /
                 f'{folder[:3]}{split[0]}{i:06d}_000001_000011.mp4').touch()
    args = argparse.Namespace(raw=str(tmp_path), seed=0, val_fraction=0.1)
    samples = tool.assign_splits(tool.from_folders(args, KS_CLASSES), args)
    count = {(s['split'], s['label']) for s in samples}
    assert {label for _, label in count} == {'playing bagpipes',
                                             'tapping pen'}
    sizes = {split: sum(s['split'] == split for s in samples)
             for split in ('train', 'val', 'test')}
    assert sizes == {'train': 18, 'val': 2, 'test': 4}
    assert all(s['split'] == 'test' for s in samples
               if s['video'].startswith(str(tmp_path / 'val')))


def test_unknown_class_in_a_list_is_named(tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text('abcdefghijk,juggling balls\n')
    with pytest.raises(ValueError, match="class 'juggling balls' is not"):
        load_tool('prepare_kinetics_sounds').read_list(str(bad), KS_CLASSES)


@pytest.mark.e2e
def test_one_training_epoch_on_the_prepared_data(prepared, tmp_path):
    train_one_epoch('kinetics_sounds', prepared, tmp_path, train_batch=5)


def test_the_dataset_config_reads_the_prepared_clips(prepared):
    inputs = read_through_config(prepared, 'kinetics_sounds')['inputs']
    assert tuple(inputs['audio'].shape[-2:]) == (128, 1024)
    assert inputs['visual'].shape[1] == 3  # (C, T, H, W): the config's T

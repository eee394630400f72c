"""tools/data/prepare_vggsound.py on a tiny VGGSound copy (vggsound.csv and
video/<youtube_id>_<start:06d>.mp4): classes present only, train/test from
the CSV, validation carved from train, missing and truncated clips
reported."""
import json

import pytest

from conftest import run_tool
from helpers.raw_media import (check_prepared, read_through_config, corrupt, digit_clips, load_tool,
                               train_one_epoch, write_video)

LABELS = ['dog barking', 'church bell ringing', 'male speech, man speaking']


def clip_id(label: int, i: int) -> str:
    return f'vgg{label}{i}_abcde'  # 11-character YouTube id


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = tmp_path_factory.mktemp('vgg_raw') / 'vggsound'
    rows = []
    for label, items in digit_clips(tiny_root, 3).items():
        for i, clip in enumerate(items):
            start = 30 * i
            name = f'{clip_id(label, i)}_{start:06d}.mp4'
            write_video(raw / 'video' / name, clip)
            split = 'test' if i == 2 else 'train'
            rows.append(f'{clip_id(label, i)},{start},"{LABELS[label]}",'
                        f'{split}\n')
    rows.append('neverloaded,0,"lions roaring",train\n')  # not downloaded
    corrupt(raw / 'video' / f'{clip_id(1, 2)}_000060.mp4')
    (raw / 'vggsound.csv').write_text(''.join(rows))
    out = tmp_path_factory.mktemp('vggsound')
    proc = run_tool('tools/data/prepare_vggsound.py', '--raw', raw, '--out',
                    out, '--workers', 2, '--no-progress')
    return out, proc


def test_classes_present_splits_and_front_end(prepared):
    out, proc = prepared
    classes = sorted(LABELS)  # 'lions roaring' has no downloaded clip
    lists = check_prepared(out, classes, {'train': 5, 'val': 1, 'test': 2},
                           spec_shape=(129, 626))
    assert {e['sample_id'] for e in lists['test']} == {
        f'{clip_id(0, 2)}_000060', f'{clip_id(2, 2)}_000060'}
    assert all(e['sample_id'].endswith(('_000000', '_000030'))
               for e in lists['train'] + lists['val'])
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['classes_without_clips'] == ['lions roaring']
    assert '3 classes with downloaded clips' in proc.stdout


def test_missing_and_truncated_clips_are_reported(prepared):
    out, _ = prepared
    assert (out / 'missing_videos.txt').read_text() == \
        'neverloaded_000000\n'
    failures = json.loads((out / 'failures.json').read_text())
    assert [f['key'] for f in failures] == [f'{clip_id(1, 2)}_000060']


def test_bad_split_value_is_named(tmp_path):
    bad = tmp_path / 'vggsound.csv'
    bad.write_text('abcdefghijk,0,dog,validation\n')
    with pytest.raises(ValueError, match="split 'validation'"):
        load_tool('prepare_vggsound').read_csv(str(bad))


@pytest.mark.e2e
def test_one_training_epoch_on_the_prepared_data(prepared, tmp_path):
    train_one_epoch('vggsound', prepared[0], tmp_path, train_batch=5)


def test_the_dataset_config_reads_the_prepared_clips(prepared):
    inputs = read_through_config(prepared[0], 'vggsound')['inputs']
    assert tuple(inputs['audio'].shape[-2:]) == (129, 626)
    assert inputs['visual'].shape[1] == 3  # (C, T, H, W): the config's T

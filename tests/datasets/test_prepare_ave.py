"""tools/data/prepare_ave.py on a tiny AVE_Dataset (AVE/*.mp4,
Annotations.txt and the three set files), with a multi-label video and a
truncated one."""
import json

import pytest

from conftest import run_tool
from helpers.raw_media import (check_prepared, read_through_config, corrupt, digit_clips, load_tool,
                               train_one_epoch, write_video)

CATEGORIES = ['Church bell', 'Male speech, man speaking', 'Dog']
SPLITS = ('train', 'val', 'test')
HEADER = 'Category&VideoID&Quality&StartTime&EndTime\n'


def vid(label: int, i: int) -> str:
    return f'AVEvid{label}{i}xyz'


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = tmp_path_factory.mktemp('ave_raw') / 'AVE_Dataset'
    lines = {split: [] for split in SPLITS}
    clips = digit_clips(tiny_root, 3)
    for label, items in clips.items():
        for i, clip in enumerate(items):
            write_video(raw / 'AVE' / f'{vid(label, i)}.mp4', clip)
            lines[SPLITS[i]].append(
                f'{CATEGORIES[label]}&{vid(label, i)}&good&0&{3 + i}\n')
    write_video(raw / 'AVE' / 'multiLabel1.mp4', clips[0][0])
    lines['train'].append(f'{CATEGORIES[0]}&multiLabel1&good&0&10\n')
    corrupt(raw / 'AVE' / f'{vid(2, 0)}.mp4')
    annotations = [line for split in SPLITS for line in lines[split]]
    annotations.append(f'{CATEGORIES[1]}&multiLabel1&good&2&5\n')
    (raw / 'Annotations.txt').write_text(HEADER + ''.join(annotations))
    for split in SPLITS:
        (raw / f'{split}Set.txt').write_text(''.join(lines[split]))
    out = tmp_path_factory.mktemp('ave')
    run_tool('tools/data/prepare_ave.py', '--raw', raw, '--out', out,
             '--workers', 2, '--no-progress')
    return out


def test_official_splits_classes_and_front_end(prepared):
    lists = check_prepared(prepared, CATEGORIES,
                           {'train': 2, 'val': 3, 'test': 3},
                           spec_shape=(257, 1004))
    for i, split in enumerate(SPLITS):
        assert {e['sample_id'] for e in lists[split]} == {
            vid(label, i) for label in range(3)} - {vid(2, 0)}
    entry = lists['test'][0]
    assert (entry['event_start'], entry['event_end'], entry['quality']) == \
        (0, 5, 'good')


def test_multilabel_video_is_dropped_and_recorded(prepared):
    meta = json.loads((prepared / 'meta.json').read_text())
    assert meta['dropped_multilabel'] == ['multiLabel1']
    ids = [e['sample_id'] for split in SPLITS for e in json.loads(
        (prepared / 'annotations' / f'{split}.json').read_text()
    )['data_list']]
    assert 'multiLabel1' not in ids


def test_truncated_video_is_reported(prepared):
    failures = json.loads((prepared / 'failures.json').read_text())
    assert [(f['stage'], f['key']) for f in failures] == [('frames',
                                                          vid(2, 0))]


def test_malformed_list_line_is_named(tmp_path):
    bad = tmp_path / 'trainSet.txt'
    bad.write_text('Dog&abc&good&0\n')
    with pytest.raises(ValueError, match='trainSet.txt:1: expected'):
        load_tool('prepare_ave').read_lines(str(bad))


@pytest.mark.e2e
def test_one_training_epoch_on_the_prepared_data(prepared, tmp_path):
    train_one_epoch('ave', prepared, tmp_path, train_batch=2)


def test_the_dataset_config_reads_the_prepared_clips(prepared):
    inputs = read_through_config(prepared, 'ave')['inputs']
    assert tuple(inputs['audio'].shape[-2:]) == (257, 1004)
    assert inputs['visual'].shape[1] == 3  # (C, T, H, W): the config's T

"""tools/data/prepare_cremad.py on a tiny CREMA-D in the distributor's
layout (VideoFlash/*.flv + AudioWAV/*.wav, 3 emotions x 3 clips), with one
truncated video; then one training epoch on the result."""
import argparse
import json

import pytest

from conftest import run_tool
from helpers.raw_media import (check_prepared, read_through_config, corrupt, digit_clips, load_tool,
                               mtimes, train_one_epoch,
                               write_video, write_wav)

CLASSES = ['NEU', 'HAP', 'SAD', 'FEA', 'DIS', 'ANG']
EMOTION = {0: 'ANG', 1: 'HAP', 2: 'SAD'}
BROKEN = '1000_DFA_ANG_XX'


def clip_name(label: int, i: int) -> str:
    return f'10{label}{i}_DFA_{EMOTION[label]}_XX'  # one actor per clip


@pytest.fixture(scope='module')
def raw(tiny_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('cremad_raw')
    train, test = [], []
    for label, items in digit_clips(tiny_root, 3).items():
        for i, clip in enumerate(items):
            name = clip_name(label, i)
            write_video(root / 'CREMA-D' / 'VideoFlash' / f'{name}.flv', clip)
            write_wav(root / 'CREMA-D' / 'AudioWAV' / f'{name}.wav', clip)
            (train if i < 2 else test).append(f'{name},{EMOTION[label]}\n')
    corrupt(root / 'CREMA-D' / 'VideoFlash' / f'{BROKEN}.flv')
    (root / 'train.csv').write_text(''.join(train))
    (root / 'test.csv').write_text(''.join(test))
    return root


@pytest.fixture(scope='module')
def prepared(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp('cremad')
    args = ('tools/data/prepare_cremad.py', '--raw', raw / 'CREMA-D',
            '--out', out, '--train-list', raw / 'train.csv', '--test-list',
            raw / 'test.csv', '--val-size', 2, '--fps', 2, '--workers', 2)
    proc = run_tool(*args)
    return out, args, proc


def test_lists_give_train_val_test_with_val_from_train(prepared, raw):
    out, _, proc = prepared
    lists = check_prepared(out, CLASSES, {'train': 3, 'val': 2, 'test': 3},
                           spec_shape=(257, 188))
    listed_train = {line.split(',')[0] for line in
                    (raw / 'train.csv').read_text().split()}
    assert {e['sample_id'] for e in lists['val']} <= listed_train
    assert {e['sample_id'] for e in lists['test']} == {
        clip_name(label, 2) for label in EMOTION}
    entry = lists['test'][0]
    assert entry['actor'] == entry['sample_id'][:4]
    assert CLASSES[entry['gt_label']] == entry['sample_id'].split('_')[2]
    # --fps 2 on 1-s videos: two frames per clip.
    assert len(list((out / entry['paths']['visual']).iterdir())) == 2
    assert 'CREMA-D written to' in proc.stdout


def test_truncated_video_is_reported_and_skipped(prepared):
    out, _, proc = prepared
    failures = json.loads((out / 'failures.json').read_text())
    assert [(f['stage'], f['key']) for f in failures] == [('frames', BROKEN)]
    assert BROKEN in failures[0]['source']
    assert 'frames: 8 done, 0 skipped (already complete), 1 failed' \
        in proc.stdout
    ids = [e['sample_id'] for split in ('train', 'val', 'test') for e in
           json.loads((out / 'annotations' / f'{split}.json').read_text()
                      )['data_list']]
    assert BROKEN not in ids and len(ids) == 8
    assert json.loads((out / 'meta.json').read_text())['failed_samples'] \
        == [BROKEN]


def test_second_run_skips_what_exists(prepared):
    out, args, _ = prepared
    before = mtimes(out)
    meta = json.loads((out / 'meta.json').read_text())
    proc = run_tool(*args)
    assert 'frames: 0 done, 8 skipped (already complete), 1 failed' \
        in proc.stdout
    assert 'spectrograms: 0 done, 8 skipped' in proc.stdout
    assert mtimes(out) == before and len(before) == 8 * 4  # 2 jpg, wav, npy
    assert json.loads((out / 'meta.json').read_text())['sha256'] == \
        meta['sha256']


def test_other_settings_are_refused_on_resume(prepared, raw):
    out, _, _ = prepared
    tool = load_tool('prepare_cremad')
    with pytest.raises(ValueError, match="fps: 2.0 -> 1.0"):
        tool.main(['--raw', str(raw / 'CREMA-D'), '--out', str(out),
                   '--fps', '1'])


def test_seeded_and_speaker_disjoint_splits_without_lists(raw):
    tool = load_tool('prepare_cremad')
    clips = tool.list_clips(str(raw / 'CREMA-D'), 'VideoFlash', 'AudioWAV')
    assert len(clips) == 9 and clips[BROKEN]['audio_source'].endswith('.wav')
    args = argparse.Namespace(train_list=None, test_list=None, val_size=None,
                              seed=0, speaker_disjoint=False)
    split = tool.assign_splits(clips, args)
    assert sorted(split.values()).count('val') == 1
    assert tool.assign_splits(clips, args) == split  # seeded
    args.speaker_disjoint = True
    split = tool.assign_splits(clips, args)
    owner = {}
    for name, part in split.items():
        assert owner.setdefault(clips[name]['actor'], part) == part
    assert set(split.values()) == {'train', 'val', 'test'}


def test_list_label_must_match_the_clip_name(tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text('1001_DFA_ANG_XX,HAP\n')
    with pytest.raises(ValueError, match="listed as 'HAP'"):
        load_tool('prepare_cremad').read_list(str(bad))


@pytest.mark.e2e
def test_one_training_epoch_on_the_prepared_data(prepared, tmp_path):
    out, _, _ = prepared
    train_one_epoch('cremad', out, tmp_path, train_batch=3)


def test_the_dataset_config_reads_the_prepared_clips(prepared):
    inputs = read_through_config(prepared[0], 'cremad')['inputs']
    assert tuple(inputs['audio'].shape[-2:]) == (257, 188)
    assert inputs['visual'].shape[1] == 1  # (C, T, H, W): the config's T

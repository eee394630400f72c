"""MultimodalDataset: annotation parsing and the errors that name culprits."""
import csv
import json
import os
import os.path as osp

import pytest

from armlab.datasets import MultimodalDataset
from armlab.registry import DATASETS

CLASSES = ['zero', 'one', 'two']


def _touch(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    open(path, 'wb').close()


def _sample(root, sid, label, extra=None, make=True):
    paths = {'audio': f'audio/train/{sid}.wav',
             'audio_spec': f'spec/train/{sid}.npy',
             'visual': f'frames/train/{sid}'}
    if make:
        _touch(osp.join(root, paths['audio']))
        _touch(osp.join(root, paths['audio_spec']))
        os.makedirs(osp.join(root, paths['visual']), exist_ok=True)
    item = dict(sample_id=sid, gt_label=label, paths=paths)
    item.update(extra or {})
    return item


def _write_json(root, data_list, classes=CLASSES, name='train.json'):
    ann = osp.join(root, 'annotations', name)
    os.makedirs(osp.dirname(ann), exist_ok=True)
    with open(ann, 'w') as f:
        json.dump(dict(metainfo=dict(dataset='toy', classes=classes,
                                     modalities=['audio', 'visual']),
                       data_list=data_list), f)
    return ann


@pytest.fixture
def root(tmp_path):
    return str(tmp_path)


def test_json_parsing(root):
    items = [_sample(root, 's0', 2, dict(snr_db=3.5)),
             _sample(root, 's1', 'one')]
    _write_json(root, items)
    ds = MultimodalDataset('annotations/train.json', data_root=root)
    assert len(ds) == 2
    assert ds.CLASSES == tuple(CLASSES)
    assert ds.metainfo['classes'] == tuple(CLASSES)
    assert ds.metainfo['modalities'] == ('audio', 'visual')
    assert ds.metainfo['dataset'] == 'toy'
    info = ds.get_data_info(0)
    assert info['sample_id'] == 's0' and info['gt_label'] == 2
    assert info['sample_idx'] == 0
    assert info['snr_db'] == 3.5  # extra audit fields are kept
    assert info['audio_path'] == osp.join(root, 'audio/train/s0.wav')
    assert info['audio_spec_path'] == osp.join(root, 'spec/train/s0.npy')
    assert info['visual_path'] == osp.join(root, 'frames/train/s0')
    assert osp.isabs(info['audio_path'])
    assert ds.get_data_info(1)['gt_label'] == 1  # class name -> index
    assert ds.get_cat_ids(1) == [1]
    assert ds.get_gt_labels().tolist() == [2, 1]
    assert ds.class_to_idx == {'zero': 0, 'one': 1, 'two': 2}
    assert 'Number of samples' in repr(ds)


def test_registry_build_and_pipeline(root):
    _write_json(root, [_sample(root, 's0', 0)])
    ds = DATASETS.build(dict(
        type='MultimodalDataset', ann_file='annotations/train.json',
        data_root=root, modalities=['audio'], pipeline=[]))
    assert ds.metainfo['modalities'] == ('audio', )
    assert ds[0]['sample_id'] == 's0'


def test_absolute_paths_and_metainfo_override(root):
    item = _sample(root, 's0', 0)
    item['paths'] = {k: osp.join(root, v) for k, v in item['paths'].items()}
    ann = _write_json(root, [item])
    ds = MultimodalDataset(ann, metainfo=dict(classes=['a', 'b']))
    assert ds.CLASSES == ('a', 'b')
    assert ds.get_data_info(0)['visual_path'] == osp.join(
        root, 'frames/train/s0')


def test_csv_parsing(root):
    for sid in ('c0', 'c1'):
        _sample(root, sid, 0)
    ann = osp.join(root, 'train.csv')
    with open(ann, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['sample_id', 'label', 'audio', 'visual'])
        w.writerow(['c0', 'two', 'audio/train/c0.wav', 'frames/train/c0'])
        w.writerow(['c1', '1', 'audio/train/c1.wav', 'frames/train/c1'])
    ds = MultimodalDataset('train.csv', data_root=root,
                           metainfo=dict(classes=CLASSES))
    assert [ds.get_data_info(i)['gt_label'] for i in range(2)] == [2, 1]
    assert ds.get_data_info(0)['audio_path'] == osp.join(
        root, 'audio/train/c0.wav')
    assert 'audio_spec_path' not in ds.get_data_info(0)


def test_csv_malformed_row(root):
    _sample(root, 'c0', 0)
    ann = osp.join(root, 'bad.csv')
    with open(ann, 'w') as f:
        f.write('sample_id,label,audio,visual\n'
                'c0,0,audio/train/c0.wav\n')
    with pytest.raises(ValueError, match=r'bad\.csv, line 2'):
        MultimodalDataset(ann, data_root=root)


def test_missing_annotation_file(root):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        MultimodalDataset('nope.json', data_root=root)


def test_malformed_json(root):
    ann = osp.join(root, 'broken.json')
    with open(ann, 'w') as f:
        f.write('{"metainfo": {}, "data_list": [')
    with pytest.raises(ValueError, match='broken.json.*malformed JSON'):
        MultimodalDataset(ann)


def test_empty_data_list(root):
    ann = _write_json(root, [])
    with pytest.raises(ValueError, match='train.json.*empty data_list'):
        MultimodalDataset(ann, data_root=root)


def test_missing_sample_id(root):
    item = _sample(root, 's0', 0)
    del item['sample_id']
    ann = _write_json(root, [_sample(root, 'ok', 0), item])
    with pytest.raises(ValueError, match=r'train\.json, sample #1.*sample_id'):
        MultimodalDataset(ann, data_root=root)


def test_missing_label(root):
    item = _sample(root, 's7', 0)
    del item['gt_label']
    ann = _write_json(root, [item])
    with pytest.raises(ValueError, match="train.json, sample 's7'.*label"):
        MultimodalDataset(ann, data_root=root)


def test_label_out_of_range(root):
    ann = _write_json(root, [_sample(root, 's3', 3)])
    with pytest.raises(ValueError, match="sample 's3'.*out of range"):
        MultimodalDataset(ann, data_root=root)


def test_unknown_class_name(root):
    ann = _write_json(root, [_sample(root, 's4', 'seven')])
    with pytest.raises(ValueError) as err:
        MultimodalDataset(ann, data_root=root)
    msg = str(err.value)
    assert "'s4'" in msg and "'seven'" in msg
    assert all(c in msg for c in CLASSES)  # lists the known classes


def test_duplicate_ids(root):
    ann = _write_json(root, [_sample(root, 'dup', 0), _sample(root, 'dup', 1)])
    with pytest.raises(ValueError, match='duplicate sample ids.*dup'):
        MultimodalDataset(ann, data_root=root)


def test_missing_files_reported(root):
    items = [_sample(root, f'm{i}', 0, make=False) for i in range(4)]
    ann = _write_json(root, items)
    with pytest.raises(FileNotFoundError) as err:
        MultimodalDataset(ann, data_root=root)
    msg = str(err.value)
    assert 'train.json' in msg and '12 referenced path(s)' in msg
    assert "'m0'" in msg and 'audio/train/m0.wav' in msg
    assert '7 more' in msg
    # Without the check the dataset builds (e.g. for a remote layout).
    assert len(MultimodalDataset(ann, data_root=root, check_files=False)) == 4


def test_modality_without_path(root):
    item = _sample(root, 'nov', 0)
    del item['paths']['visual']
    ann = _write_json(root, [item])
    with pytest.raises(ValueError, match="'nov'.*modality 'visual'"):
        MultimodalDataset(ann, data_root=root)
    # audio_spec alone serves the audio modality.
    del item['paths']['audio']
    ann = _write_json(root, [item])
    ds = MultimodalDataset(ann, data_root=root, modalities=('audio', ))
    assert 'audio_path' not in ds.get_data_info(0)


def test_av_clip_dataset_gives_every_sample_its_clip_shape(tmp_path):
    ann = tmp_path / 'ann.csv'
    (tmp_path / 'a.wav').write_bytes(b'')
    (tmp_path / 'v').mkdir()
    ann.write_text('sample_id,label,audio,visual\ns0,0,a.wav,v\n')
    ds = DATASETS.build(dict(type='AVClipDataset', ann_file=str(ann),
                             data_root=str(tmp_path), num_frames=3,
                             spec_shape=(257, 188),
                             metainfo=dict(classes=['x'])))
    info = ds.get_data_info(0)
    assert info['num_frames'] == 3 and info['spec_shape'] == (257, 188)
    for bad in (dict(num_frames=0), dict(spec_shape=(257, ))):
        with pytest.raises(ValueError, match='AVClipDataset'):
            DATASETS.build(dict(type='AVClipDataset', ann_file=str(ann),
                                data_root=str(tmp_path),
                                metainfo=dict(classes=['x']), **bad))


def test_holdout_parts_are_disjoint_seeded_and_cover_the_split(root):
    from armlab.datasets.multimodal_dataset import holdout_indices
    items = [_sample(root, f's{i}', i % 3) for i in range(20)]
    _write_json(root, items)

    def ids(**holdout):
        ds = MultimodalDataset('annotations/train.json', data_root=root,
                               holdout=holdout)
        return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]

    train = ids(fraction=0.25, seed=3, part='train')
    held = ids(fraction=0.25, seed=3, part='held_out')
    assert len(held) == 5 and len(train) == 15
    assert set(train) | set(held) == {f's{i}' for i in range(20)}
    assert not set(train) & set(held)
    assert held == ids(fraction=0.25, seed=3, part='held_out')
    assert held != ids(fraction=0.25, seed=4, part='held_out')
    # File order within a part; positions are the new sample indices.
    assert train == sorted(train, key=lambda s: int(s[1:]))
    assert holdout_indices(20, 0.25, 3, 'held_out') == sorted(
        int(s[1:]) for s in held)
    for bad, match in ((dict(fraction=1.0), 'fraction'),
                       (dict(fraction=0.1, part='test'), 'part'),
                       (dict(fraction=0.1, folds=2), 'unknown')):
        with pytest.raises((ValueError, KeyError), match=match):
            MultimodalDataset('annotations/train.json', data_root=root,
                              holdout=bad)

"""tools/data/prepare_food101.py on a tiny UPMC Food-101 copy, then one
epoch of the image+text joint config through tools/train.py."""
import json

import pytest

from conftest import REPO, run_tool, train_in_process
from helpers.raw_text_media import (FOOD_CLASSES, TEST_ONLY_WORD,
                                    make_raw_food101, run_script,
                                    tiny_text_options)

from armlab.utils.scalars import load_scalars

CONFIG = (REPO / 'configs' / 'joint' /
          'joint_concat_resnet18_transformer_food101.py')
#: Pipeline positions of Tokenize and of the image resize/crop step.
TOKENIZE = {'train': 4, 'test': 3}
IMAGE_STEP = {'train': 1, 'test': 1}


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = make_raw_food101(tiny_root, tmp_path_factory.mktemp('raw_food'))
    out = tmp_path_factory.mktemp('food101')
    proc = run_tool('tools/data/prepare_food101.py', '--raw', raw, '--out',
                    out, '--val-size', 3, '--min-freq', 1, '--no-progress')
    return raw, out, proc


def _annotations(root, split):
    return json.loads((root / 'annotations' / f'{split}.json').read_text())


def test_annotations_splits_and_files(prepared):
    raw, out, proc = prepared
    anns = {s: _annotations(out, s) for s in ('train', 'val', 'test')}
    ids = {s: [d['sample_id'] for d in a['data_list']]
           for s, a in anns.items()}
    raw_train = len(list((raw / 'images' / 'train').rglob('*.jpg')))
    raw_test = len(list((raw / 'images' / 'test').rglob('*.jpg')))
    # Official test kept whole; val (3) carved out of the official train.
    assert len(ids['test']) == raw_test
    assert len(ids['val']) == 3
    assert len(ids['train']) + len(ids['val']) == raw_train
    assert all(i.startswith('train_') for i in ids['val'])
    assert not set(ids['train']) & set(ids['val'])
    assert not set(ids['train']) & set(ids['test'])
    for split, ann in anns.items():
        assert ann['metainfo']['classes'] == list(FOOD_CLASSES)
        assert ann['metainfo']['modalities'] == ['visual', 'text']
        for item in ann['data_list']:
            image = out / item['paths']['visual']
            text = out / item['paths']['text']
            assert image.is_file() and text.is_file()
            label = FOOD_CLASSES[item['gt_label']]
            assert f'/{label}/' in item['paths']['visual']
            assert item['paths']['text'] == \
                f'text/{split}/{item["sample_id"]}.txt'
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['counts'] == {s: len(v) for s, v in ids.items()}
    assert meta['vocab']['size'] == len(
        json.loads((out / 'vocab.json').read_text())['tokens'])
    assert 'train: ' in proc.stdout


def test_vocabulary_comes_from_the_train_split_only(prepared):
    _, out, _ = prepared
    tokens = json.loads((out / 'vocab.json').read_text())['tokens']
    assert tokens[:4] == ['[PAD]', '[UNK]', '[CLS]', '[SEP]']
    assert 'ramen' in tokens and 'sushi' in tokens
    assert TEST_ONLY_WORD not in tokens  # appears in test captions only
    test_text = next((out / 'text' / 'test').glob('*.txt')).read_text()
    assert TEST_ONLY_WORD in test_text.lower()


def test_missing_image_is_named_unless_skipped(tiny_root, tmp_path):
    raw = make_raw_food101(tiny_root, tmp_path / 'raw',
                           per_class={'train': 4, 'test': 2})
    (raw / 'images' / 'train' / 'ramen' / 'ramen_1.jpg').unlink()
    with pytest.raises(FileNotFoundError,
                       match=r'train/ramen/ramen_1.jpg.*--skip-missing'):
        run_script('tools/data/prepare_food101.py', '--raw', raw, '--out',
                   tmp_path / 'out', '--no-progress')
    run_script('tools/data/prepare_food101.py', '--raw', raw, '--out',
               tmp_path / 'out', '--no-progress', '--skip-missing',
               '--val-size', 3)
    meta = json.loads((tmp_path / 'out' / 'meta.json').read_text())
    assert meta['missing_images'] == {'train': ['train/ramen/ramen_1.jpg']}
    ids = [d['sample_id'] for s in ('train', 'val') for d in
           _annotations(tmp_path / 'out', s)['data_list']]
    assert len(ids) == 11 and 'train_ramen_1' not in ids


def test_joint_config_trains_one_epoch(prepared, tmp_path):
    _, out, _ = prepared
    opts = tiny_text_options(
        out, TOKENIZE, IMAGE_STEP,
        {'visual.base_channels': 4, 'text.embed_dims': 8,
         'text.num_heads': 2}, epochs=1, num_classes=len(FOOD_CLASSES))
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *opts)
    assert (tmp_path / 'epoch_1.pth').is_file()
    val = [r for r in load_scalars(tmp_path) if 'accuracy/top1' in r]
    assert len(val) == 1
    for key in ('acc_visual_mask', 'acc_text_mask', 'acc_text_decomp'):
        assert key in val[0]

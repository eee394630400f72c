"""tools/data/prepare_iemocap.py on a tiny DialogueRNN feature pickle, then
one epoch of the three-modality (audio + visual + text) joint config."""
import json

import numpy as np
import pytest

from conftest import REPO, run_tool, train_in_process
from helpers.raw_text_media import (make_raw_iemocap, run_script,
                                    tiny_text_options)

from armlab.utils.scalars import load_scalars

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_mlp_transformer_iemocap.py'
SIX = ['happy', 'sad', 'neutral', 'angry', 'excited', 'frustrated']


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    pkl = make_raw_iemocap(tmp_path_factory.mktemp('raw') /
                           'IEMOCAP_features.pkl')
    out = tmp_path_factory.mktemp('iemocap')
    run_tool('tools/data/prepare_iemocap.py', '--features', pkl, '--out', out,
             '--val-fraction', 0.25, '--no-progress')
    return pkl, out


def _data_list(root, split):
    ann = json.loads((root / 'annotations' / f'{split}.json').read_text())
    return ann['metainfo'], ann['data_list']


def test_official_test_sessions_and_dialogue_disjoint_val(prepared):
    _, out = prepared
    splits = {s: _data_list(out, s) for s in ('train', 'val', 'test')}
    dialogues = {s: {d['dialogue'] for d in v[1]}
                 for s, v in splits.items()}
    assert {d['session'] for d in splits['test'][1]} == {5}
    assert {d['session'] for s in ('train', 'val')
            for d in splits[s][1]} == {1, 2, 3, 4}
    assert len(dialogues['val']) == 2 and len(dialogues['train']) == 6
    assert not dialogues['train'] & dialogues['val']
    for split, (meta, items) in splits.items():
        assert meta['classes'] == SIX
        assert meta['modalities'] == ['audio', 'visual', 'text']
        for item in items:
            audio = np.load(out / item['paths']['audio'])
            visual = np.load(out / item['paths']['visual'])
            assert audio.shape == (1, 100) and visual.shape == (1, 512)
            assert audio.dtype == np.float32
            text = (out / item['paths']['text']).read_text()
            assert SIX[item['gt_label']] in text  # the sentence of the pickle
    vocab = json.loads((out / 'vocab.json').read_text())['tokens']
    assert 'feel' in vocab and vocab[:2] == ['[PAD]', '[UNK]']


def test_four_class_merges_excited_and_drops_frustrated(prepared, tmp_path):
    pkl, _ = prepared
    run_script('tools/data/prepare_iemocap.py', '--features', pkl, '--out',
               tmp_path, '--four-class', '--no-progress')
    meta, items = _data_list(tmp_path, 'test')
    assert meta['classes'] == ['happy', 'sad', 'neutral', 'angry']
    # Test dialogues: 12 utterances, two of each of the six labels.
    assert len(items) == 10
    assert sorted(np.bincount([d['gt_label'] for d in items])) == [2, 2, 2, 4]


def test_bad_pickle_is_named(tmp_path):
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='bad.pkl.*cannot unpickle'):
        run_script('tools/data/prepare_iemocap.py', '--features', bad,
                   '--out', tmp_path / 'out')


@pytest.mark.e2e
def test_three_modality_config_trains_one_epoch(prepared, tmp_path):
    _, out = prepared
    opts = tiny_text_options(
        out, {'train': 3, 'test': 3}, None,
        {'audio.out_channels': 8, 'visual.out_channels': 8,
         'text.embed_dims': 8, 'text.num_heads': 2}, epochs=1)
    train_in_process(CONFIG, tmp_path, '--cfg-options',
                     *opts)
    val = [r for r in load_scalars(tmp_path) if 'accuracy/top1' in r]
    assert len(val) == 1
    for m in ('audio', 'visual', 'text'):
        assert f'acc_{m}_mask' in val[0] and f'acc_{m}_decomp' in val[0]
        assert f'shapley_{m}' in val[0]

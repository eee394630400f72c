"""tools/data/prepare_urfunny.py on tiny pickles in the authors' v2 layout
(a malformed segment reported and skipped, a pickle of another layout named),
and one epoch of the three-modality joint config."""
import json
import pickle

import numpy as np
import pytest

from conftest import REPO, train_in_process
from helpers.raw_text_media import run_script, tiny_text_options

from armlab.utils.scalars import load_scalars

TOOL = 'tools/data/prepare_urfunny.py'
CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_mlp_transformer_urfunny.py'
WORDS = {0: 'the weather report said rain', 1: 'my cat filed my taxes'}


def make_raw(raw, per_fold=dict(train=12, dev=4, test=4)):
    """The five pickles; segment ids are ints as in the release. Id 3's
    visual rows have the wrong width (the malformed item); id 5 has a NaN in
    its audio."""
    rng = np.random.default_rng(0)
    folds, language, covarep, openface, labels = {}, {}, {}, {}, {}
    sample_id = 0
    for fold, count in per_fold.items():
        folds[fold] = []
        for i in range(count):
            sample_id += 1
            label = i % 2
            words = WORDS[label].split()
            n = len(words)
            folds[fold].append(sample_id)
            language[sample_id] = dict(
                punchline_sentence=WORDS[label],
                context_sentences=['so I said', 'and then'],
                punchline_embedding_indexes=list(range(n)))
            audio = rng.normal(label, 1, (n, 81))
            if sample_id == 5:
                audio[0, 0] = np.nan
            covarep[sample_id] = dict(punchline_features=audio.tolist(),
                                      context_features=[np.ones((3, 81))] * 2)
            width = 370 if sample_id == 3 else 371
            openface[sample_id] = dict(
                punchline_features=rng.normal(label, 1, (n, width)),
                context_features=[np.ones((3, 371))] * 2)
            labels[sample_id] = label
    raw.mkdir(parents=True, exist_ok=True)
    for name, obj in (('data_folds', folds), ('language_sdk', language),
                      ('covarep_features_sdk', covarep),
                      ('openface_features_sdk', openface),
                      ('humor_label_sdk', labels)):
        with open(raw / f'{name}.pkl', 'wb') as f:
            pickle.dump(obj, f)
    return raw


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    raw = make_raw(tmp_path_factory.mktemp('raw_urfunny'))
    out = tmp_path_factory.mktemp('urfunny')
    code, stdout = run_script(TOOL, '--raw', raw, '--out', out,
                              '--no-progress')
    assert code == 0, stdout
    return raw, out, stdout


def _entries(out, split):
    return json.loads((out / 'annotations' / f'{split}.json').read_text())


def test_folds_features_and_the_malformed_segment(prepared):
    _, out, stdout = prepared
    anns = {s: _entries(out, s) for s in ('train', 'val', 'test')}
    ids = {s: [d['sample_id'] for d in a['data_list']]
           for s, a in anns.items()}
    assert len(ids['train']) == 11 and '3' not in ids['train']
    assert len(ids['val']) == 4 and len(ids['test']) == 4  # dev -> val
    failures = json.loads((out / 'failures.json').read_text())
    assert [f['key'] for f in failures] == ['3']
    assert '370' in failures[0]['error']
    item = anns['train']['data_list'][0]
    assert anns['train']['metainfo']['classes'] == ['not_humor', 'humor']
    audio = np.load(out / item['paths']['audio'])
    visual = np.load(out / item['paths']['visual'])
    text = (out / item['paths']['text']).read_text()
    assert audio.shape[1] == 81 and visual.shape[1] == 371
    assert audio.shape[0] == len(text.split())  # one row per word
    five = np.load(out / 'audio' / 'train' / '5.npy')
    assert np.isfinite(five).all() and five[0, 0] == 0
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['non_finite_values_zeroed'] == 1
    assert '1 segment(s) skipped' in stdout


def test_context_sentences_come_first(prepared, tmp_path):
    raw, _, _ = prepared
    out = tmp_path / 'ctx'
    code, stdout = run_script(TOOL, '--raw', raw, '--out', out, '--context',
                              1, '--no-progress')
    assert code == 0, stdout
    text = (out / 'text' / 'train' / '1.txt').read_text()
    assert text == 'and then ' + WORDS[0]
    assert np.load(out / 'audio' / 'train' / '1.npy').shape[0] == 3 + 5


def test_another_layout_is_named(tmp_path):
    raw = make_raw(tmp_path / 'raw')
    with open(raw / 'data_folds.pkl', 'wb') as f:
        pickle.dump({'train': [1], 'valid': [2], 'test': [3]}, f)
    with pytest.raises(ValueError, match=r"no \['dev'\] fold"):
        run_script(TOOL, '--raw', raw, '--out', tmp_path / 'out')
    raw = make_raw(tmp_path / 'raw2')
    (raw / 'humor_label_sdk.pkl').unlink()
    with pytest.raises(FileNotFoundError, match='humor_label_sdk.pkl'):
        run_script(TOOL, '--raw', raw, '--out', tmp_path / 'out')


def test_three_modality_config_trains_one_epoch(prepared, tmp_path):
    _, out, _ = prepared
    opts = tiny_text_options(
        out, {'train': 3, 'test': 3}, None,
        {'audio.out_channels': 8, 'visual.out_channels': 8,
         'text.embed_dims': 8, 'text.num_heads': 2}, epochs=1)
    train_in_process(CONFIG, tmp_path, '--cfg-options', *opts)
    val = [r for r in load_scalars(tmp_path) if 'accuracy/top1' in r]
    assert len(val) == 1
    for m in ('text', 'audio', 'visual'):
        assert f'acc_{m}_mask' in val[0]

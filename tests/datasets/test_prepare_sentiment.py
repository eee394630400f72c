"""tools/data/prepare_sentiment.py on tiny CMU-MOSI / MOSEI pickles in the
MMSA and MulT layouts (aligned and unaligned), the errors for pickles of
another kind, and one epoch of the joint config on the prepared folder."""
import json
import pickle

import numpy as np
import pytest

from conftest import REPO, train_in_process
from helpers.raw_text_media import run_script
from helpers.sentiment_pickles import SCORES, make_sentiment_pickle

from armlab.utils.scalars import epoch_series, load_scalars

TOOL = 'tools/data/prepare_sentiment.py'


def prepare(pkl, out, dataset='mosi', *extra):
    code, stdout = run_script(TOOL, '--dataset', dataset, '--pickle', pkl,
                              '--out', out, '--no-progress', *extra)
    assert code == 0
    return stdout


def data_list(root, split):
    ann = json.loads((root / 'annotations' / f'{split}.json').read_text())
    return ann['metainfo'], ann['data_list']


@pytest.fixture(scope='module')
def mosi_aligned(tmp_path_factory):
    pkl = make_sentiment_pickle(tmp_path_factory.mktemp('raw') /
                                'aligned_50.pkl')
    out = tmp_path_factory.mktemp('mosi')
    prepare(pkl, out)
    return pkl, out


def test_mmsa_aligned_splits_labels_and_features(mosi_aligned):
    pkl, out = mosi_aligned
    with open(pkl, 'rb') as f:
        raw = pickle.load(f)
    sizes = {s: len(data_list(out, s)[1]) for s in ('train', 'val', 'test')}
    assert sizes == {'train': 9, 'val': 3, 'test': 3}  # the pickle's splits
    meta, items = data_list(out, 'train')
    assert meta['classes'] == ['negative', 'neutral', 'positive']
    assert meta['modalities'] == ['audio', 'visual', 'text']
    # Scores -3 .. 3 with half-to-even rounding for the 7 classes.
    assert [e['regression_label'] for e in items] == pytest.approx(SCORES)
    assert [e['label7'] for e in items] == [0, 1, 2, 3, 3, 3, 4, 5, 6]
    assert [e['label3'] for e in items] == [0, 0, 0, 0, 1, 2, 2, 2, 2]
    assert [e['gt_label'] for e in items] == [e['label3'] for e in items]
    first = items[0]
    assert first['sample_id'] == 'vid0__0' and first['video'] == 'vid0'
    assert first['raw_text'] == 'clip vid0$_$0 says something'
    audio = np.load(out / first['paths']['audio'])
    assert audio.shape == (50, 5) and audio.dtype == np.float32
    assert np.isfinite(audio).all()  # COVAREP's -inf became 0
    text = np.load(out / first['paths']['text'])
    assert text.shape == (50, 768)
    ids = np.load(out / first['paths']['text_ids'])
    np.testing.assert_array_equal(ids, raw['train']['text_bert'][0])
    for entry in items:  # aligned: every modality on the text's steps
        length = int(raw['train']['text_bert'][
            items.index(entry), 1].sum())
        assert entry['lengths'] == dict(audio=length, visual=length,
                                        text=length)
    saved = json.loads((out / 'meta.json').read_text())
    assert saved['layout'] == 'MMSA' and saved['aligned'] is True
    assert saved['replaced_non_finite']['train'] == {'audio': 1}
    assert saved['feature_dims'] == dict(audio=5, visual=20, text=768)


def test_seven_classes_and_a_rerun_rewrites_nothing(mosi_aligned, tmp_path):
    pkl, _ = mosi_aligned
    prepare(pkl, tmp_path, 'mosi', '--num-classes', '7')
    meta, items = data_list(tmp_path, 'train')
    assert len(meta['classes']) == 7
    assert [e['gt_label'] for e in items] == [0, 1, 2, 3, 3, 3, 4, 5, 6]
    stamp = (tmp_path / items[0]['paths']['audio']).stat().st_mtime_ns
    prepare(pkl, tmp_path, 'mosi', '--num-classes', '7')
    assert (tmp_path / items[0]['paths']['audio']).stat().st_mtime_ns == \
        stamp


def test_unaligned_lengths_come_from_the_pickle(tmp_path):
    pkl = make_sentiment_pickle(tmp_path / 'unaligned_50.pkl', aligned=False)
    with open(pkl, 'rb') as f:
        raw = pickle.load(f)['test']
    out = tmp_path / 'out'
    prepare(pkl, out)
    _, items = data_list(out, 'test')
    for i, entry in enumerate(items):
        assert entry['lengths']['audio'] == raw['audio_lengths'][i]
        assert entry['lengths']['visual'] == raw['vision_lengths'][i]
        visual = np.load(out / entry['paths']['visual'])
        assert visual.shape == (500, 20)
        length = raw['vision_lengths'][i]
        assert not visual[length:].any() and visual[length - 1].any()
    assert json.loads((out / 'meta.json').read_text())['aligned'] is False


def test_mult_layout_of_mosei(tmp_path):
    pkl = make_sentiment_pickle(tmp_path / 'mosei_senti_data.pkl',
                                dataset='mosei', layout='MulT')
    out = tmp_path / 'out'
    prepare(pkl, out, 'mosei')
    _, items = data_list(out, 'val')
    assert items[0]['sample_id'] == 'vid4_0_1' and items[0]['video'] == 'vid4'
    assert 'text_ids' not in items[0]['paths']  # GloVe only, no token ids
    assert np.load(out / items[0]['paths']['text']).shape == (50, 300)
    assert np.load(out / items[0]['paths']['audio']).shape == (50, 74)
    assert json.loads((out / 'meta.json').read_text())['layout'] == 'MulT'


def test_a_joblib_dump_reads_as_the_pickle(mosi_aligned, tmp_path):
    """CIDer's out-of-distribution files are joblib dumps of the same
    layout; compressed ones are not plain pickles."""
    import joblib
    pkl, out = mosi_aligned
    with open(pkl, 'rb') as f:
        data = pickle.load(f)
    dump = tmp_path / 'MOSI_aligned_50.pkl'
    joblib.dump(data, dump, compress=3)
    prepare(dump, tmp_path / 'ood')
    assert data_list(tmp_path / 'ood', 'test')[1] == data_list(out,
                                                               'test')[1]


def test_pickles_of_another_kind_are_named(tmp_path):
    mosei = make_sentiment_pickle(tmp_path / 'mosei.pkl', dataset='mosei')
    with pytest.raises(ValueError, match=r"'audio' features are 74-d.*"
                       r"is this a mosei pickle"):
        prepare(mosei, tmp_path / 'a', 'mosi')
    with open(mosei, 'rb') as f:
        data = pickle.load(f)
    for split in data.values():
        del split['regression_labels'], split['text_bert']
    other = tmp_path / 'other.pkl'
    other.write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError, match=r"known layout.*MMSA lacks "
                       r"\['regression_labels', 'text_bert'\]; MulT lacks "
                       r"\['labels'\]"):
        prepare(other, tmp_path / 'b', 'mosei')
    with open(mosei, 'rb') as f:
        data = pickle.load(f)
    data['test']['regression_labels'][1] = 3.4
    out_of_range = tmp_path / 'range.pkl'
    out_of_range.write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError, match=r"\[-3.0, 3.0\]; sample 'vid6__1'"):
        prepare(out_of_range, tmp_path / 'c', 'mosei')
    del data['valid']
    no_val = tmp_path / 'two_splits.pkl'
    no_val.write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError, match='splits'):
        prepare(no_val, tmp_path / 'd', 'mosei')
    (tmp_path / 'bad.pkl').write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='bad.pkl.*cannot unpickle'):
        prepare(tmp_path / 'bad.pkl', tmp_path / 'e', 'mosi')


def test_joint_config_trains_one_epoch(mosi_aligned, tmp_path):
    _, out = mosi_aligned
    opts = [f'{name}.{key}' for name in ('train_dataloader', 'val_dataloader',
                                         'test_dataloader')
            for key in (f'dataset.data_root={out}', 'batch_size=4',
                        'num_workers=0', 'persistent_workers=False')]
    train_in_process(
        REPO / 'configs' / 'joint' / 'joint_concat_sequence_mosi.py',
        tmp_path, '--cfg-options', *opts, 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1')
    rows = load_scalars(tmp_path)
    assert epoch_series(rows, 'accuracy/top1')[0] == [1]
    assert epoch_series(rows, 'acc_text_mask')[0] == [1]
    _, acc2 = epoch_series(rows, 'sentiment/acc2_non0_text_mask')
    assert len(acc2) == 1 and 0 <= acc2[0] <= 100
    assert (tmp_path / 'epoch_1.pth').is_file()

"""MVSA's cleaning rule, its label file's errors, tools/data/prepare_mvsa.py
on tiny MVSA-Single and MVSA-Multiple copies (a corrupt image reported and
skipped), and one epoch of the image+text joint config."""
import json

import pytest

from conftest import REPO, train_in_process
from helpers.raw_text_media import (MVSA_CLASSES, make_raw_mvsa, run_script,
                                    tiny_text_options)

from armlab.datasets.preparation.mvsa import (clean_label, decode_text,
                                              merge_pair, read_label_file)
from armlab.utils.scalars import load_scalars

TOOL = 'tools/data/prepare_mvsa.py'
CONFIG = (REPO / 'configs' / 'joint' /
          'joint_concat_resnet18_transformer_mvsa-single.py')
TOKENIZE = {'train': 4, 'test': 3}
IMAGE_STEP = {'train': 1, 'test': 1}


def test_pair_merge_and_majorities():
    assert merge_pair('positive', 'positive') == 'positive'
    assert merge_pair('neutral', 'negative') == 'negative'
    assert merge_pair('positive', 'neutral') == 'positive'
    assert merge_pair('positive', 'negative') is None
    # Per modality first: text (pos, pos, neg) -> pos, image (neu, neu,
    # neg) -> neu, merged -> pos.
    votes = [('positive', 'neutral'), ('positive', 'neutral'),
             ('negative', 'negative')]
    assert clean_label(votes) == 'positive'
    # Per annotator first: pos, pos, neg -> pos as well; a three-way split
    # has no majority either way.
    assert clean_label(votes, 'annotator-majority') == 'positive'
    split = [('positive', 'positive'), ('neutral', 'neutral'),
             ('negative', 'negative')]
    assert clean_label(split) is None
    assert clean_label(split, 'annotator-majority') is None
    # Annotators that each contradict themselves: nothing to vote for.
    bad = [('positive', 'negative')] * 2 + [('neutral', 'neutral')]
    assert clean_label(bad, 'annotator-majority') is None
    with pytest.raises(ValueError, match='rule'):
        clean_label(votes, 'vote')


def test_label_file_errors_name_the_line(tmp_path):
    path = tmp_path / 'labelResultAll.txt'
    path.write_text('ID\ttext,image\n1\tpositive,neutral\n2\thappy,neutral\n')
    with pytest.raises(ValueError, match=r'line 3: .happy,neutral'):
        read_label_file(str(path))
    path.write_text('ID\ttext,image\n1\tpositive,neutral\n1\tneutral,'
                    'neutral\n')
    with pytest.raises(ValueError, match='line 3: id 1 listed twice'):
        read_label_file(str(path))
    assert decode_text('caf\xe9  ok'.encode('latin-1')) == 'caf\xe9 ok'


@pytest.fixture(scope='module')
def prepared(tiny_root, tmp_path_factory):
    raw = make_raw_mvsa(tiny_root, tmp_path_factory.mktemp('raw_mvsa'))
    (raw / 'data' / '5.jpg').write_bytes(b'\xff\xd8\xff not a jpeg')
    out = tmp_path_factory.mktemp('mvsa_single')
    code, stdout = run_script(TOOL, '--raw', raw, '--out', out,
                              '--min-freq', 1, '--workers', 0,
                              '--no-progress')
    assert code == 0, stdout
    return raw, out, stdout


def _ids(out, split):
    ann = json.loads((out / 'annotations' / f'{split}.json').read_text())
    return {d['sample_id']: d for d in ann['data_list']}, ann['metainfo']


def test_cleaning_splits_and_the_corrupt_image(prepared):
    raw, out, stdout = prepared
    splits = {s: _ids(out, s) for s in ('train', 'val', 'test')}
    ids = {s: set(v[0]) for s, v in splits.items()}
    everything = set().union(*ids.values())
    # 24 pairs: id 1 contradicts itself, id 5's image does not decode.
    assert len(everything) == 22 and not {'1', '5'} & everything
    assert not ids['train'] & ids['val'] and not ids['train'] & ids['test']
    assert len(ids['test']) >= 2 and len(ids['val']) >= 2
    items = {k: v for s in splits.values() for k, v in s[0].items()}
    assert MVSA_CLASSES[items['2']['gt_label']] == 'positive'
    for split, (entries, meta) in splits.items():
        assert meta['classes'] == list(MVSA_CLASSES)
        for item in entries.values():
            assert (out / item['paths']['visual']).is_file()
            assert (out / item['paths']['text']).read_text().startswith(
                'RT @user:')
    failures = json.loads((out / 'failures.json').read_text())
    assert [f['key'] for f in failures] == ['5']
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['variant'] == 'MVSA-Single'
    assert meta['cleaning']['dropped'] == {'inconsistent or no majority': 1}
    assert 'MVSA-Single: 24 annotated pairs, 1 dropped' in stdout


def test_multiple_votes_per_modality(tiny_root, tmp_path):
    raw = make_raw_mvsa(tiny_root, tmp_path / 'raw', per_class=4,
                        annotators=3)
    out = tmp_path / 'out'
    code, stdout = run_script(TOOL, '--raw', raw, '--out', out, '--min-freq',
                              1, '--workers', 0, '--no-progress')
    assert code == 0, stdout
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['variant'] == 'MVSA-Multiple'
    assert meta['cleaning']['annotators'] == 3
    kept = {k: MVSA_CLASSES[v['gt_label']] for s in ('train', 'val', 'test')
            for k, v in _ids(out, s)[0].items()}
    # The third annotator is outvoted everywhere; id 1 still contradicts.
    assert '1' not in kept and kept['2'] == 'positive'
    assert kept['3'] == 'positive' and len(kept) == 11


def test_missing_layout_is_named(tmp_path):
    code, stdout = run_script(TOOL, '--raw', tmp_path, '--out',
                              tmp_path / 'out', '--no-progress')
    assert code != 0 and 'labelResultAll.txt and data/' in stdout


def test_joint_config_trains_one_epoch(prepared, tmp_path):
    _, out, _ = prepared
    opts = tiny_text_options(
        out, TOKENIZE, IMAGE_STEP,
        {'visual.base_channels': 4, 'text.embed_dims': 8,
         'text.num_heads': 2}, epochs=1, num_classes=len(MVSA_CLASSES))
    train_in_process(CONFIG, tmp_path, '--cfg-options', *opts)
    assert (tmp_path / 'epoch_1.pth').is_file()
    val = [r for r in load_scalars(tmp_path) if 'accuracy/top1' in r]
    assert len(val) == 1 and 'acc_text_mask' in val[0]

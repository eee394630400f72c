"""Prepare IEMOCAP (audio + visual + text, 6 emotions) from the DialogueRNN
feature pickle.

Raw input: ``IEMOCAP_features.pkl`` (or ``IEMOCAP_features_raw.pkl``) as
distributed with DialogueRNN (declare-lab/conv-emotion) and reused by
MMGCN/COGMEN: a pickled 9-tuple (read with ``encoding='latin1'``)::

    videoIDs       {dialogue: [utterance id, ...]}      e.g. Ses01F_impro01_F000
    videoSpeakers  {dialogue: ['M' | 'F', ...]}
    videoLabels    {dialogue: [label index, ...]}       hap sad neu ang exc fru
    videoText      {dialogue: [text feature, ...]}      100-d (not used)
    videoAudio     {dialogue: [audio feature, ...]}     100-d (openSMILE)
    videoVisual    {dialogue: [visual feature, ...]}    512-d (DenseNet faces)
    videoSentence  {dialogue: [transcript, ...]}        raw utterance text
    trainVid       [dialogue, ...]   120 dialogues, sessions 1-4
    testVid        [dialogue, ...]   31 dialogues, session 5 (speaker-disjoint)

A feature may be one vector (D,) per utterance, as in this file, or a
sequence (T, D); it is saved as it is and ``LoadFeatures`` pads/cuts T.
Only load pickles you trust: unpickling runs code.

What it writes (docs/design.md layout)::

    OUT/annotations/{train,val,test}.json   # paths: audio, visual, text
    OUT/audio/<split>/<utterance id>.npy    # float32 (T, 100)
    OUT/visual/<split>/<utterance id>.npy   # float32 (T, 512)
    OUT/text/<split>/<utterance id>.txt     # the transcript
    OUT/vocab.json                          # built from the train split only
    OUT/meta.json

The official test dialogues (session 5) are kept; validation is carved out of
the training dialogues, seeded and dialogue-disjoint (``--group session``
holds out whole sessions instead, i.e. unseen speakers). ``--four-class``
gives the common 4-class task: happy+excited, sad, neutral, angry
(frustrated dropped).

Example:
    python tools/data/prepare_iemocap.py \
        --features data/raw/IEMOCAP_features.pkl --out data/iemocap
"""
import argparse
import os
import os.path as osp
import pickle
import re
import sys
from collections import Counter
from typing import Dict, List

import numpy as np
from tqdm import tqdm

from armlab.datasets.preparation import (carve_validation, check_disjoint,
                                         write_annotations)
from armlab.datasets.preparation.feature_files import save_npy
from armlab.datasets.text import build_vocab_file, text_path, write_texts

TOOL = 'tools/data/prepare_iemocap.py'
VERSION = 1
#: Label indices of the pickle, in order.
SIX_CLASSES = ('happy', 'sad', 'neutral', 'angry', 'excited', 'frustrated')
#: 4-class task: pickle index -> class name (frustrated dropped).
FOUR_CLASS_MAP = {0: 'happy', 4: 'happy', 1: 'sad', 2: 'neutral', 3: 'angry'}
FOUR_CLASSES = ('happy', 'sad', 'neutral', 'angry')
FIELDS = ('videoIDs', 'videoSpeakers', 'videoLabels', 'videoText',
          'videoAudio', 'videoVisual', 'videoSentence', 'trainVid', 'testVid')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--features', required=True,
                        help='IEMOCAP_features.pkl (DialogueRNN 9-tuple)')
    parser.add_argument('--out', default='data/iemocap',
                        help='output folder (the dataset data_root)')
    val = parser.add_mutually_exclusive_group()
    val.add_argument('--val-fraction', type=float, default=None,
                     help='validation fraction of the training utterances '
                     '(default 0.1)')
    val.add_argument('--val-size', type=int, default=None)
    parser.add_argument('--group', choices=('dialogue', 'session'),
                        default='dialogue',
                        help='unit kept whole when carving validation')
    parser.add_argument('--four-class', action='store_true',
                        help='happy+excited, sad, neutral, angry')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument('--min-freq', type=int, default=1,
                        help='vocabulary: minimum count in train')
    parser.add_argument('--max-vocab', type=int, default=8000,
                        help='vocabulary: maximum size, specials included '
                        '(the config\'s TextEncoder vocab_size must be at '
                        'least this)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def load_pickle(path: str) -> Dict[str, object]:
    """The 9-tuple as a dict of :data:`FIELDS`."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'IEMOCAP feature pickle not found: {path}')
    with open(path, 'rb') as f:
        try:
            data = pickle.load(f, encoding='latin1')
        except Exception as err:
            raise ValueError(f'{path}: cannot unpickle ({err!r})') from err
    if not isinstance(data, (tuple, list)) or len(data) != len(FIELDS):
        raise ValueError(f'{path}: expected the DialogueRNN 9-tuple '
                         f'{FIELDS}, got {type(data).__name__} of length '
                         f'{len(data) if hasattr(data, "__len__") else "?"}')
    return dict(zip(FIELDS, data))


def session_of(utterance: str) -> int:
    match = re.match(r'Ses(\d+)', utterance)
    return int(match.group(1)) if match else -1


def utterances(data: Dict[str, object], dialogues: List[str],
               official: str, four_class: bool) -> List[dict]:
    """One record per utterance of ``dialogues``."""
    out = []
    for vid in dialogues:
        ids = data['videoIDs'][vid]
        columns = {k: data[k][vid] for k in ('videoSpeakers', 'videoLabels',
                                             'videoAudio', 'videoVisual',
                                             'videoSentence')}
        for key, column in columns.items():
            if len(column) != len(ids):
                raise ValueError(f'dialogue {vid!r}: {key} has '
                                 f'{len(column)} entries for {len(ids)} '
                                 f'utterances')
        for i, uid in enumerate(ids):
            label = int(columns['videoLabels'][i])
            if not 0 <= label < len(SIX_CLASSES):
                raise ValueError(f'utterance {uid!r}: label {label} not in '
                                 f'[0, {len(SIX_CLASSES)})')
            if four_class:
                if label not in FOUR_CLASS_MAP:
                    continue
                name = FOUR_CLASS_MAP[label]
            else:
                name = SIX_CLASSES[label]
            speaker = columns['videoSpeakers'][i]
            out.append(dict(
                sample_id=str(uid), label=name, dialogue=str(vid),
                session=session_of(str(uid)), official=official,
                speaker=speaker if isinstance(speaker, str)
                else np.asarray(speaker).tolist(),
                audio=np.asarray(columns['videoAudio'][i], np.float32),
                visual=np.asarray(columns['videoVisual'][i], np.float32),
                text=str(columns['videoSentence'][i])))
    return out


def main() -> None:
    args = parse_args()
    data = load_pickle(args.features)
    train_vid, test_vid = list(data['trainVid']), list(data['testVid'])
    shared = sorted(set(train_vid) & set(test_vid))
    if shared:
        sys.exit(f'prepare_iemocap: trainVid and testVid share dialogues '
                 f'{shared[:5]}')
    official = {
        'train': utterances(data, sorted(train_vid), 'train',
                            args.four_class),
        'test': utterances(data, sorted(test_vid), 'test', args.four_class)
    }
    classes = FOUR_CLASSES if args.four_class else SIX_CLASSES
    train = official['train']
    if args.val_size is None and args.val_fraction is None:
        args.val_fraction = 0.1
    groups = [s['dialogue'] if args.group == 'dialogue' else s['session']
              for s in train]
    train_idx, val_idx = carve_validation(
        [s['label'] for s in train], range(len(train)), size=args.val_size,
        fraction=args.val_fraction, seed=args.seed, groups=groups)
    splits = {'train': [train[i] for i in train_idx],
              'val': [train[i] for i in val_idx], 'test': official['test']}
    check_disjoint({k: [s['sample_id'] for s in v]
                    for k, v in splits.items()})
    check_disjoint({k: {s['dialogue'] for s in v}
                    for k, v in splits.items()})

    os.makedirs(args.out, exist_ok=True)
    vocab = build_vocab_file((s['text'] for s in splits['train']),
                             osp.join(args.out, 'vocab.json'),
                             min_freq=args.min_freq, max_size=args.max_vocab)
    dims = {m: sorted({s[m].shape[-1] for s in train})
            for m in ('audio', 'visual')}
    extra_meta = dict(
        tool=TOOL, version=VERSION,
        params=dict(seed=args.seed, val_fraction=args.val_fraction,
                    val_size=args.val_size, group=args.group,
                    four_class=args.four_class, min_freq=args.min_freq,
                    max_vocab=args.max_vocab,
                    source=osp.basename(args.features)),
        feature_dims=dims,
        vocab=dict(file='vocab.json', size=len(vocab), built_from='train'))
    for split, samples in splits.items():
        samples = sorted(samples, key=lambda s: s['sample_id'])
        for m in ('audio', 'visual'):
            os.makedirs(osp.join(args.out, m, split), exist_ok=True)
        for s in tqdm(samples, desc=f'features {split}',
                      disable=args.no_progress, leave=False):
            for m in ('audio', 'visual'):
                save_npy(osp.join(args.out, m, split,
                                  f'{s["sample_id"]}.npy'),
                         np.atleast_2d(s[m]))
        write_texts(args.out, split,
                    ((s['sample_id'], s['text']) for s in samples),
                    progress=not args.no_progress)
        entries = [dict(
            sample_id=s['sample_id'], gt_label=s['label'],
            paths=dict(audio=f'audio/{split}/{s["sample_id"]}.npy',
                       visual=f'visual/{split}/{s["sample_id"]}.npy',
                       text=text_path(split, s['sample_id'])),
            dialogue=s['dialogue'], session=s['session'],
            speaker=s['speaker'], official_split=s['official'])
            for s in samples]
        write_annotations(args.out, split, entries, classes,
                          ('audio', 'visual', 'text'), 'IEMOCAP', extra_meta)
        counts = Counter(s['label'] for s in samples)
        print(f'{split}: {len(samples)} utterances from '
              f'{len({s["dialogue"] for s in samples})} dialogues; '
              + ', '.join(f'{c} {counts[c]}' for c in classes))
    print(f'vocabulary: {len(vocab)} tokens from the train split; feature '
          f'dims {dims}; wrote {args.out}')


if __name__ == '__main__':
    main()

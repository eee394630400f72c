"""Prepare UR-FUNNY (text + audio + visual features, humour or not).

Raw input: the folder of the UR-FUNNY v2 feature pickles as its authors
distribute them (Hasan et al., EMNLP 2019; ROC-HCI/UR-FUNNY)::

    RAW/data_folds.pkl             {'train': [id, ...], 'dev': [...], 'test': [...]}
    RAW/language_sdk.pkl           {id: {'punchline_sentence': str,
                                         'context_sentences': [str, ...], ...}}
    RAW/covarep_features_sdk.pkl   {id: {'punchline_features': (n, 81),
                                         'context_features': [(n_k, 81), ...]}}
    RAW/openface_features_sdk.pkl  {id: the same with 371-d OpenFace features}
    RAW/humor_label_sdk.pkl        {id: 0 | 1}

Features are aligned to the words (one row per word). ``--context K`` puts
the last K context sentences before the punchline (text joined, feature rows
concatenated); the default 0 keeps the punchline alone. Non-finite feature
values (COVAREP has some) become 0 and are counted in meta.json. Only load
pickles you trust: unpickling runs code.

What it writes::

    OUT/annotations/{train,val,test}.json   # paths: text, audio, visual
    OUT/audio/<split>/<id>.npy              # float32 (T, 81)
    OUT/visual/<split>/<id>.npy             # float32 (T, 371)
    OUT/text/<split>/<id>.txt
    OUT/vocab.json                          # built from the train split only
    OUT/meta.json, OUT/failures.json        # a sample whose entries are
                                            # missing or malformed is listed
                                            # there and skipped

The official folds are kept: train, dev (validation, never test) and test.

Example:
    python tools/data/prepare_urfunny.py --raw data/raw/urfunny \
        --out data/urfunny
"""
import argparse
import os
import os.path as osp
import pickle
import sys
from collections import Counter
from typing import Dict, Tuple

import numpy as np
from tqdm import tqdm

from armlab.datasets.preparation import check_disjoint, write_annotations
from armlab.datasets.preparation.annotations import write_json_atomic
from armlab.datasets.preparation.feature_files import save_npy
from armlab.datasets.text import build_vocab_file, text_path, write_texts

TOOL = 'tools/data/prepare_urfunny.py'
VERSION = 1
CLASSES = ('not_humor', 'humor')
FILES = dict(folds='data_folds.pkl', language='language_sdk.pkl',
             audio='covarep_features_sdk.pkl',
             visual='openface_features_sdk.pkl', label='humor_label_sdk.pkl')
DIMS = dict(audio=81, visual=371)
#: Official fold -> armlab split.
FOLDS = dict(train='train', dev='val', test='test')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--raw', required=True,
                        help='the folder of the five UR-FUNNY pickles')
    parser.add_argument('--out', default='data/urfunny')
    parser.add_argument('--context', type=int, default=0,
                        help='context sentences put before the punchline')
    parser.add_argument('--min-freq', type=int, default=1)
    parser.add_argument('--max-vocab', type=int, default=8000,
                        help="vocabulary size cap (the config's TextEncoder "
                        'vocab_size must be at least this)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def load(raw: str, name: str):
    path = osp.join(raw, FILES[name])
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: the UR-FUNNY folder '
                                f'holds {sorted(FILES.values())}')
    with open(path, 'rb') as f:
        try:
            data = pickle.load(f, encoding='latin1')
        except Exception as err:
            raise ValueError(f'{path}: cannot unpickle ({err!r})') from err
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a dict keyed by segment id '
                         f'(UR-FUNNY v2 layout), got {type(data).__name__}')
    if name == 'folds':
        missing = sorted(set(FOLDS) - set(data))
        if missing:
            raise ValueError(f'{path}: no {missing} fold(s); keys are '
                             f'{sorted(map(str, data))}')
    return data


def features(entry, modality: str, context: int) -> np.ndarray:
    """(T, D) rows of the last ``context`` context sentences and the
    punchline; raises on a missing key or a wrong feature size."""
    if not isinstance(entry, dict) or 'punchline_features' not in entry:
        raise ValueError(f'{modality}: no punchline_features')
    parts = list(entry.get('context_features') or [])[-context:] \
        if context else []
    rows = []
    for part in parts + [entry['punchline_features']]:
        array = np.asarray(part, dtype=np.float32)
        if array.size == 0:
            continue
        if array.ndim != 2 or array.shape[1] != DIMS[modality]:
            raise ValueError(f'{modality}: feature rows of shape '
                             f'{array.shape}, expected (n, {DIMS[modality]})')
        rows.append(array)
    if not rows:
        raise ValueError(f'{modality}: no feature rows')
    return np.concatenate(rows)


def sample(sample_id, sdk: Dict[str, dict], context: int) -> Tuple[dict, int]:
    """One segment's text, features and label, and its non-finite count."""
    for name in ('language', 'audio', 'visual', 'label'):
        if sample_id not in sdk[name]:
            raise KeyError(f'not in {FILES[name]}')
    language = sdk['language'][sample_id]
    if not isinstance(language, dict) or 'punchline_sentence' not in language:
        raise ValueError('language entry has no punchline_sentence')
    sentences = list(language.get('context_sentences') or [])[-context:] \
        if context else []
    text = ' '.join(str(s) for s in sentences + [language[
        'punchline_sentence']]).strip()
    if not text:
        raise ValueError('empty punchline sentence')
    label = int(sdk['label'][sample_id])
    if label not in (0, 1):
        raise ValueError(f'label {label} is not 0 or 1')
    out, bad = dict(text=' '.join(text.split()), label=CLASSES[label]), 0
    for m in DIMS:
        array = features(sdk[m][sample_id], m, context)
        finite = np.isfinite(array)
        bad += int((~finite).sum())
        out[m] = np.where(finite, array, 0).astype(np.float32)
    return out, bad


def main() -> None:
    args = parse_args()
    if not osp.isdir(args.raw):
        sys.exit(f'prepare_urfunny: {args.raw!r} is not a folder')
    folds = load(args.raw, 'folds')
    sdk = {name: load(args.raw, name) for name in FILES if name != 'folds'}
    check_disjoint({k: [str(i) for i in folds[k]] for k in FOLDS})
    splits, failures, non_finite = {}, [], 0
    for fold, split in FOLDS.items():
        splits[split] = []
        for sample_id in folds[fold]:
            try:
                record, bad = sample(sample_id, sdk, args.context)
            except Exception as err:
                failures.append(dict(stage='sample', key=str(sample_id),
                                     source=fold, error=f'{type(err).__name__}'
                                     f': {err}'))
                continue
            non_finite += bad
            splits[split].append(dict(record, sample_id=str(sample_id)))
    os.makedirs(args.out, exist_ok=True)
    write_json_atomic(osp.join(args.out, 'failures.json'), failures)
    if not splits['train']:
        sys.exit('prepare_urfunny: no usable training segment (see '
                 'failures.json)')
    vocab = build_vocab_file((s['text'] for s in splits['train']),
                             osp.join(args.out, 'vocab.json'),
                             min_freq=args.min_freq, max_size=args.max_vocab)
    extra_meta = dict(
        tool=TOOL, version=VERSION,
        params=dict(context=args.context, min_freq=args.min_freq,
                    max_vocab=args.max_vocab),
        feature_dims=DIMS, non_finite_values_zeroed=non_finite,
        failed=len(failures),
        vocab=dict(file='vocab.json', size=len(vocab), built_from='train'))
    for split, samples in splits.items():
        for m in DIMS:
            os.makedirs(osp.join(args.out, m, split), exist_ok=True)
        for s in tqdm(samples, desc=f'features {split}',
                      disable=args.no_progress, leave=False):
            for m in DIMS:
                save_npy(osp.join(args.out, m, split,
                                  f'{s["sample_id"]}.npy'), s[m])
        write_texts(args.out, split,
                    ((s['sample_id'], s['text']) for s in samples),
                    progress=not args.no_progress)
        entries = [dict(sample_id=s['sample_id'], gt_label=s['label'],
                        paths=dict(text=text_path(split, s['sample_id']),
                                   audio=f'audio/{split}/{s["sample_id"]}.npy',
                                   visual=f'visual/{split}/'
                                   f'{s["sample_id"]}.npy'))
                   for s in samples]
        write_annotations(args.out, split, entries, CLASSES,
                          ('text', 'audio', 'visual'), 'UR-FUNNY',
                          extra_meta)
        counts = Counter(s['label'] for s in samples)
        print(f'{split}: {len(samples)} segments ('
              + ', '.join(f'{c} {counts[c]}' for c in CLASSES) + ')')
    print(f'{len(failures)} segment(s) skipped (failures.json); '
          f'{non_finite} non-finite feature value(s) set to 0; vocabulary '
          f'{len(vocab)} tokens; wrote {args.out}')


if __name__ == '__main__':
    main()

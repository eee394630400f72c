"""CMU-MOSI and CMU-MOSEI feature pickles, read and checked.

Researchers hold these benchmarks as one pickle per alignment, in one of two
layouts (``docs/datasets.md, "CMU-MOSI and CMU-MOSEI"`` has the details):

* **MMSA** (``Processed/aligned_50.pkl``, ``unaligned_50.pkl``): a dict
  ``{'train', 'valid', 'test'}`` of per-split dicts with ``text`` (frozen
  BERT states, (N, 50, 768)), ``text_bert`` ((N, 3, 50) ids, mask and
  segment ids), ``audio`` (COVAREP), ``vision`` (Facet), ``id``,
  ``raw_text``, ``annotations``, ``classification_labels``,
  ``regression_labels`` and, when unaligned, ``audio_lengths`` and
  ``vision_lengths``.
* **MulT** (``mosi_data.pkl``, ``*_noalign.pkl``): the same splits with
  ``text`` (GloVe, (N, 50, 300)), ``audio``, ``vision``, ``labels``
  ((N, 1, 1) scores) and ``id``.

:func:`read_sentiment_pickle` turns either into one :class:`SentimentSplit`
per split, with the checks a preparation tool owes its user: the layout is
recognised by its keys (another layout is refused with the keys that
differ), every array has one row per sample, the feature sizes are the
dataset's (a MOSEI pickle passed as MOSI is named as such), scores lie in
[-3, 3], and ``-inf`` (present in COVAREP) becomes 0, as every loader of
these files does.
"""
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

__all__ = ['SentimentSplit', 'read_sentiment_pickle', 'sentiment_classes',
           'three_class_labels', 'seven_class_labels', 'FEATURE_DIMS',
           'SPLITS']

#: Pickle split name -> armlab split name.
SPLITS = {'train': 'train', 'valid': 'val', 'test': 'test'}
#: Keys each layout must hold (per split).
LAYOUT_KEYS = {
    'MMSA': ('text', 'text_bert', 'audio', 'vision', 'id', 'raw_text',
             'classification_labels', 'regression_labels'),
    'MulT': ('text', 'audio', 'vision', 'labels', 'id'),
}
#: Dataset -> modality -> feature size (MMSA text is BERT, MulT GloVe).
FEATURE_DIMS = {
    'mosi': dict(audio=5, visual=20),
    'mosei': dict(audio=74, visual=35),
}
TEXT_DIMS = {'MMSA': 768, 'MulT': 300}
#: Sentiment scores are annotator means on this scale.
SCORE_RANGE = (-3.0, 3.0)
THREE_CLASSES = ('negative', 'neutral', 'positive')
SEVEN_CLASSES = ('strongly negative', 'negative', 'weakly negative',
                 'neutral', 'weakly positive', 'positive',
                 'strongly positive')


def sentiment_classes(num_classes: int) -> Tuple[str, ...]:
    """Class names of the 3- or 7-class task."""
    if num_classes == 3:
        return THREE_CLASSES
    if num_classes == 7:
        return SEVEN_CLASSES
    raise ValueError(f'sentiment classification has 3 or 7 classes, got '
                     f'{num_classes}')


def three_class_labels(scores: np.ndarray) -> np.ndarray:
    """0 negative (y < 0), 1 neutral (y == 0), 2 positive (y > 0)."""
    return (np.sign(scores) + 1).astype(np.int64)


def seven_class_labels(scores: np.ndarray) -> np.ndarray:
    """round(clip(y, -3, 3)) + 3 with numpy's round-half-to-even, as the
    field computes Acc-7 (-2.5 -> class 1, 0.5 -> class 3)."""
    return (np.round(np.clip(scores, *SCORE_RANGE)) + 3).astype(np.int64)


@dataclass
class SentimentSplit:
    """One split, in armlab's modality names.

    ``features`` maps audio / visual / text to float32 (N, T, D) arrays with
    the rows past each sample's valid length set to zero (the padding that
    ``SequenceEncoder`` leaves out); ``lengths`` holds those lengths.
    """
    name: str
    ids: List[str]
    videos: List[str]
    aligned: bool  # every modality on one time axis (the text's)
    scores: np.ndarray
    features: Dict[str, np.ndarray]
    lengths: Dict[str, np.ndarray]
    raw_text: Optional[List[str]] = None
    token_ids: Optional[np.ndarray] = None  # (N, 3, L) int64 (MMSA)
    replaced_non_finite: Dict[str, int] = field(default_factory=dict)


def _layout(split: Mapping, where: str) -> str:
    keys = set(split)
    for name, needed in LAYOUT_KEYS.items():
        if set(needed) <= keys:
            return name
    differs = '; '.join(
        f'{name} lacks {sorted(set(needed) - keys)}'
        for name, needed in LAYOUT_KEYS.items())
    raise ValueError(f'{where}: not a MOSI/MOSEI pickle of a known layout '
                     f'(its keys: {sorted(keys)}; as {differs})')


def _text(value) -> str:
    return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def _sample_ids(raw, n: int, where: str) -> Tuple[List[str], List[str]]:
    """File-name-safe sample ids and the video of each sample."""
    ids, videos = [], []
    for row in raw:
        if isinstance(row, (str, bytes)):  # MMSA: '<video>$_$<clip>'
            row = _text(row)
            videos.append(row.split('$_$')[0])
        else:  # MulT: (video, start, end) strings
            parts = [_text(r) for r in np.asarray(row).ravel()]
            videos.append(parts[0])
            row = '_'.join(parts)
        ids.append(row.replace('$_$', '__').replace('/', '_'))
    if len(ids) != n:
        raise ValueError(f'{where}: {len(ids)} ids for {n} samples')
    seen = set()
    for sid in ids:
        if sid in seen:
            raise ValueError(f'{where}: duplicate sample id {sid!r}')
        seen.add(sid)
    return ids, videos


def _valid_rows(x: np.ndarray) -> np.ndarray:
    """Per sample, 1 + the last row that is not all zero (0 if none)."""
    nonzero = np.abs(x).sum(-1) != 0
    last = np.where(nonzero.any(1),
                    x.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)
    return last.astype(np.int64)


def _zero_past(x: np.ndarray, lengths: np.ndarray) -> None:
    """Zero, in place, the rows of each sample past its valid length (no
    copy: MOSEI's unaligned features are several GB)."""
    x[np.arange(x.shape[1])[None, :] >= lengths[:, None]] = 0.0


def _split(raw: Mapping, name: str, dataset: str, layout: str,
           path: str) -> SentimentSplit:
    where = f'{path} [{name!r}]'
    features = {}
    n = None
    for armlab_name, key in (('audio', 'audio'), ('visual', 'vision'),
                             ('text', 'text')):
        x = np.asarray(raw[key])
        if x.ndim != 3:
            raise ValueError(f'{where}: {key!r} must be (N, T, D), got '
                             f'shape {x.shape}')
        n = len(x) if n is None else n
        if len(x) != n:
            raise ValueError(f'{where}: {key!r} has {len(x)} rows, '
                             f'{"audio"!r} has {n}')
        expected = (TEXT_DIMS[layout] if armlab_name == 'text'
                    else FEATURE_DIMS[dataset][armlab_name])
        if x.shape[-1] != expected:
            other = [d for d, dims in FEATURE_DIMS.items()
                     if armlab_name != 'text' and
                     dims[armlab_name] == x.shape[-1]]
            hint = (f'; that is {other[0].upper()}\'s size: is this a '
                    f'{other[0]} pickle?' if other and other[0] != dataset
                    else '')
            raise ValueError(f'{where}: {key!r} features are {x.shape[-1]}-d'
                             f', CMU-{dataset.upper()} {layout} has '
                             f'{expected}-d{hint}')
        # The pickle's own array where it is float32 already: it is
        # cleaned in place below and never used otherwise.
        features[armlab_name] = np.asarray(x, dtype=np.float32)
    replaced = {}
    for m, x in features.items():
        bad = ~np.isfinite(x)
        if bad.any():
            replaced[m] = int(bad.sum())
            x[bad] = 0.0
    ids, videos = _sample_ids(raw['id'], n, where)
    if layout == 'MMSA':
        scores = np.asarray(raw['regression_labels'], np.float64).reshape(-1)
        token_ids = np.asarray(raw['text_bert']).astype(np.int64)
        if token_ids.shape[:2] != (n, 3):
            raise ValueError(f"{where}: 'text_bert' must be (N, 3, L) ids, "
                             f'mask and segment ids, got {token_ids.shape}')
        raw_text = [str(t) for t in raw['raw_text']]
        classes = np.asarray(raw['classification_labels']).reshape(-1)
        if len(classes) != n or not np.isin(classes, (0, 1, 2)).all():
            raise ValueError(f"{where}: 'classification_labels' must be one "
                             f'of 0, 1, 2 per sample')
    else:
        scores = np.asarray(raw['labels'], np.float64).reshape(-1)
        token_ids, raw_text = None, None
    if len(scores) != n:
        raise ValueError(f'{where}: {len(scores)} labels for {n} samples')
    out = np.flatnonzero(~np.isfinite(scores) | (scores < SCORE_RANGE[0]) |
                         (scores > SCORE_RANGE[1]))
    if len(out):
        raise ValueError(f'{where}: sentiment scores must lie in '
                         f'{list(SCORE_RANGE)}; sample {ids[out[0]]!r} has '
                         f'{scores[out[0]]} ({len(out)} such samples)')
    # Valid lengths: the text mask (MMSA) or the non-zero rows; aligned
    # audio and vision share the text's word-piece axis, unaligned ones
    # carry their own lengths.
    if token_ids is not None:
        text_len = token_ids[:, 1].sum(1).astype(np.int64)
    else:
        text_len = _valid_rows(features['text'])
    lengths = {'text': text_len}
    aligned = len({features[m].shape[1] for m in features}) == 1
    for m, key in (('audio', 'audio_lengths'), ('visual', 'vision_lengths')):
        if key in raw:
            given = np.asarray(raw[key], np.int64).reshape(-1)
            if len(given) != n or (given < 1).any() or \
                    (given > features[m].shape[1]).any():
                raise ValueError(f'{where}: {key!r} must hold one length in '
                                 f'[1, {features[m].shape[1]}] per sample')
            lengths[m] = given
        elif aligned:
            lengths[m] = text_len
        else:
            lengths[m] = _valid_rows(features[m])
    for m, x in features.items():
        _zero_past(x, lengths[m])
    return SentimentSplit(name=SPLITS[name], ids=ids, videos=videos,
                          scores=scores, aligned=aligned,
                          features=features, lengths=lengths,
                          raw_text=raw_text, token_ids=token_ids,
                          replaced_non_finite=replaced)


def _load(path: str):
    """A plain pickle, or a joblib dump (CIDer distributes its OOD files so;
    joblib comes with scikit-learn)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'sentiment pickle not found: {path}')
    try:
        with open(path, 'rb') as f:
            return pickle.load(f, encoding='latin1')
    except Exception as err:
        try:
            import joblib
            return joblib.load(path)
        except Exception:
            raise ValueError(f'{path}: cannot unpickle ({err!r}), nor read '
                             'it as a joblib file') from err


def read_sentiment_pickle(path: str, dataset: str
                          ) -> Tuple[str, bool, Dict[str, SentimentSplit]]:
    """Read an MMSA or MulT pickle of CMU-MOSI / CMU-MOSEI.

    Only load pickles you trust: unpickling runs code.

    Args:
        path: The pickle.
        dataset: 'mosi' or 'mosei' (decides the expected feature sizes).

    Returns:
        (layout name, aligned, armlab split name -> :class:`SentimentSplit`).
    """
    if dataset not in FEATURE_DIMS:
        raise ValueError(f'dataset must be one of {sorted(FEATURE_DIMS)}, '
                         f'got {dataset!r}')
    data = _load(path)
    if not isinstance(data, Mapping) or set(data) != set(SPLITS):
        got = sorted(data) if isinstance(data, Mapping) else \
            type(data).__name__
        raise ValueError(f'{path}: expected a dict of the splits '
                         f'{sorted(SPLITS)}, got {got}')
    layouts = {name: _layout(split, f'{path} [{name!r}]')
               for name, split in data.items()}
    if len(set(layouts.values())) != 1:
        raise ValueError(f'{path}: splits of different layouts {layouts}')
    layout = layouts['train']
    splits = {SPLITS[name]: _split(split, name, dataset, layout, path)
              for name, split in data.items()}
    steps = {m: x.shape[1] for m, x in splits['train'].features.items()}
    for split in splits.values():
        got = {m: x.shape[1] for m, x in split.features.items()}
        if got != steps:
            raise ValueError(f'{path}: split {split.name!r} has time steps '
                             f'{got}, train has {steps}')
    return layout, splits['train'].aligned, splits

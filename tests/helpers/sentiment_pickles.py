"""Tiny CMU-MOSI / MOSEI feature pickles in the MMSA and MulT layouts: the
real keys, dtypes and feature sizes, a few samples per split."""
import pickle

import numpy as np

#: Scores that exercise the label rules (half-to-even rounding, neutral).
SCORES = (-3.0, -2.5, -1.4, -0.5, 0.0, 0.5, 0.6, 2.5, 3.0)
SIZES = {'train': 9, 'valid': 3, 'test': 3}
DIMS = {'mosi': (5, 20), 'mosei': (74, 35)}


def _split(n, offset, dataset, aligned, layout, rng):
    d_a, d_v = DIMS[dataset]
    steps = (50, 50) if aligned else (375, 500)
    text_dim = 768 if layout == 'MMSA' else 300
    lengths = rng.integers(3, 20, n)
    lengths[0] = 3  # a single word between [CLS] and [SEP]
    ids = np.zeros((n, 3, 50), np.int64)
    text = np.zeros((n, 50, text_dim), np.float32)
    audio = np.zeros((n, steps[0], d_a), np.float32)
    vision = np.zeros((n, steps[1], d_v), np.float32)
    a_len = rng.integers(1, steps[0], n)
    v_len = rng.integers(1, steps[1], n)
    for i, length in enumerate(lengths):
        ids[i, 0, :length] = [101, *rng.integers(1996, 2100, length - 2),
                              102]
        ids[i, 1, :length] = 1
        text[i, :length] = rng.normal(size=(length, text_dim))
        if aligned:  # word-piece axis: zero at [CLS] and [SEP]
            audio[i, 1:length - 1] = rng.normal(size=(length - 2, d_a)) + 1
            vision[i, 1:length - 1] = rng.normal(size=(length - 2, d_v)) + 1
        else:
            audio[i, :a_len[i]] = rng.normal(size=(a_len[i], d_a)) + 1
            vision[i, :v_len[i]] = rng.normal(size=(v_len[i], d_v)) + 1
    audio[0, 1, 0] = -np.inf  # COVAREP's -inf, which loaders set to 0
    scores = np.array([SCORES[(offset + i) % len(SCORES)] for i in range(n)],
                      np.float32)
    clip_ids = [f'vid{(offset + i) // 2}$_${i}' for i in range(n)]
    if layout == 'MulT':
        return dict(text=text, audio=audio, vision=vision,
                    labels=scores.reshape(n, 1, 1),
                    id=np.array([[c.split('$_$')[0].encode(),
                                  str(i).encode(), str(i + 1).encode()]
                                 for i, c in enumerate(clip_ids)]))
    split = dict(
        raw_text=np.array([f'clip {c} says something' for c in clip_ids]),
        id=np.array(clip_ids), text=text, text_bert=ids, audio=audio,
        vision=vision,
        annotations=np.array(['Negative', 'Neutral', 'Positive'])[
            (np.sign(scores) + 1).astype(int)],
        classification_labels=(np.sign(scores) + 1).astype(np.float32),
        regression_labels=scores)
    if not aligned:
        split.update(audio_lengths=a_len.tolist(),
                     vision_lengths=v_len.tolist())
    return split


def make_sentiment_pickle(path, dataset='mosi', aligned=True, layout='MMSA',
                          seed=0):
    """Write the pickle at ``path`` and return the path."""
    rng = np.random.default_rng(seed)
    data, offset = {}, 0
    for name, n in SIZES.items():
        data[name] = _split(n, offset, dataset, aligned, layout, rng)
        offset += n
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=4)
    return path


def prepare_tiny_mosi(tmp_path, aligned=True):
    """A tiny MMSA pickle (aligned, or unaligned at MOSI's native 375 / 500
    steps) prepared by tools/data/prepare_sentiment.py into
    ``tmp_path / 'mosi'``; returns that folder."""
    from .raw_text_media import run_script
    name = 'aligned_50.pkl' if aligned else 'unaligned_50.pkl'
    pkl = make_sentiment_pickle(tmp_path / name, aligned=aligned)
    root = tmp_path / 'mosi'
    code, stdout = run_script('tools/data/prepare_sentiment.py', '--dataset',
                              'mosi', '--pickle', pkl, '--out', root,
                              '--no-progress')
    assert code == 0, stdout
    return root


def loader_options(root, batch_size=4) -> list:
    """--cfg-options that point a MOSI config's three loaders at ``root``
    (a prepared tiny pickle), small batches in the main process."""
    return [f'{name}.{key}' for name in ('train_dataloader', 'val_dataloader',
                                         'test_dataloader')
            for key in (f'dataset.data_root={root}',
                        f'batch_size={batch_size}', 'num_workers=0',
                        'persistent_workers=False')]

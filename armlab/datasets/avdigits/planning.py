"""AV-Digits' plan: every random choice of a build, drawn in a fixed order.

The order of the draws from the build's one ``numpy.random.default_rng(seed)``
is part of the benchmark: two builds with the same parameters draw the same
images, voices, speakers, offsets and paths (docs/avdigits.md).
"""
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from .sources import FsddRecording

SPLITS = ('train', 'val', 'test')
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
PITCH_RANGE = (25, 75)  # inclusive, espeak-ng 0-100 scale
RATE_RANGE = (120, 220)  # inclusive, words per minute


def _split_sizes(total: int) -> Tuple[int, int]:
    n_train = int(round(SPLIT_FRACTIONS[0] * total))
    n_val = int(round(SPLIT_FRACTIONS[1] * total))
    return n_train, n_val


def split_list(items: Sequence, rng: np.random.Generator
                ) -> Dict[str, list]:
    """Seeded 70/10/20 split of a list, each split non-empty."""
    order = [items[i] for i in rng.permutation(len(items))]
    n_train, n_val = _split_sizes(len(order))
    n_val = max(n_val, 1)
    parts = {'train': order[:n_train], 'val': order[n_train:n_train + n_val],
             'test': order[n_train + n_val:]}
    for split, part in parts.items():
        if not part:
            raise ValueError(f'too few items ({len(items)}) to give the '
                             f'{split} split one')
    return parts


def split_images(labels: np.ndarray, rng: np.random.Generator
                  ) -> Dict[str, List[np.ndarray]]:
    """Per class, a seeded permutation cut 70/10/20: split -> class pools."""
    pools: Dict[str, List[np.ndarray]] = {split: [] for split in SPLITS}
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) < 3:
            raise ValueError(f'visual source has {len(members)} images of '
                             f'digit {digit}; need at least 3')
        parts = split_list(members.tolist(), rng)
        for split in SPLITS:
            pools[split].append(np.asarray(parts[split], np.int64))
    return pools


def plan_split(split: str, num: int, image_pools: List[np.ndarray],
                audio_pool: list, audio_source: str,
                rng: np.random.Generator) -> List[Dict[str, Any]]:
    """Draw every random choice of one split, in a fixed order."""
    labels = rng.permutation(np.arange(num) % 10)
    if audio_source == 'espeak':
        voice_idx = rng.integers(len(audio_pool), size=num)
        pitch = rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1, size=num)
        rate = rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1, size=num)
    else:
        by_digit = [[r for r in audio_pool if r.digit == d]
                    for d in range(10)]
        rec_u = rng.random(num)
    offset_u = rng.random(num)
    path_u = rng.random((num, 4))

    used = [0] * 10
    plan = []
    for i, label in enumerate(labels.tolist()):
        pool = image_pools[label]  # cycled once exhausted
        sample = dict(split=split, sample_id=f'{split}_{i:06d}',
                      gt_label=label,
                      image_index=int(pool[used[label] % len(pool)]),
                      offset_u=float(offset_u[i]), path_u=path_u[i])
        used[label] += 1
        if audio_source == 'espeak':
            sample.update(voice=audio_pool[int(voice_idx[i])],
                          pitch=int(pitch[i]), rate=int(rate[i]))
        else:
            recs = by_digit[label]
            rec: FsddRecording = recs[int(rec_u[i] * len(recs))]
            sample.update(speaker=rec.speaker, take=rec.take,
                          recording=rec)
        plan.append(sample)
    return plan

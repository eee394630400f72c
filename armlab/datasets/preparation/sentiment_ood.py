"""A seeded, documented out-of-distribution repartition of CMU-MOSI / MOSEI.

CIDer evaluates on OOD splits whose construction (script, seed, objective) is
not public; the lineage it cites, CLUE, builds a test set in which frequent
words occur about equally often in negative and positive utterances, so that
the word -> sentiment shortcut a model learns on training data no longer
pays at test. This module implements that rule, reproducibly:

1. tokens: lower-case, punctuation to spaces, split on whitespace, English
   stop-words dropped (``STOP_WORDS``);
2. vocabulary V: the words occurring more than ``min_count`` times in the
   pool;
3. for a candidate test set T, n_T(w) and p_T(w) count w in T's negative and
   positive utterances (``mode='np'``: label3 0 against 2; ``'nn'``: 0
   against 1 and 2);
4. objective F(T) = sum_{w in V} |n_T(w) - p_T(w)| / (n_T(w) + p_T(w) + 1e-6),
   minimised over subsets of the pool of a fixed size by simulated annealing
   (one move swaps a member for a non-member; accept with
   exp((F_old - F_new) / t); t from ``t0`` times ``cooling`` per step), all
   draws from ``numpy.random.default_rng(seed)``.

Pools: ``'test'`` (CLUE's: T is chosen inside the official test split, of
``test_fraction`` of its size; train and validation stay as they are, the
rest of test is left out) or ``'all'`` (every utterance pooled; T of the
official test size, then the others dealt at random into train and
validation at their official sizes). No sample lands in two splits; the same
seed and the same annotations give the same splits, so the aligned and the
unaligned folders of one dataset (same utterances, same order) get the same
assignment. This is **not** CIDer's split; CIDer's own files, where a user
has them, prepare with ``tools/data/prepare_sentiment.py`` as they are.
"""
import re
from collections import Counter
from typing import Dict, List, Sequence

import numpy as np

#: Common English function words (a short list in the spirit of NLTK's).
STOP_WORDS = frozenset('''
a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during
each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yourself
yourselves um uh s t m re ve ll d
'''.split())
SPLITS = ('train', 'val', 'test')


def tokens(text: str) -> List[str]:
    """Lower-cased words of ``text`` without punctuation or stop-words."""
    words = re.sub(r'[^\w\s]|_', ' ', str(text).lower()).split()
    return [w for w in words if w not in STOP_WORDS]


class BalanceObjective:
    """F(T) with incremental updates: each utterance is a count vector over
    V, each side (negative / positive) a (|V|,) total."""

    def __init__(self, texts: Sequence[str], labels: Sequence[int],
                 min_count: int, mode: str):
        if mode not in ('np', 'nn'):
            raise ValueError(f"mode must be 'np' or 'nn', got {mode!r}")
        toks = [tokens(t) for t in texts]
        counts = Counter(w for ts in toks for w in ts)
        self.vocab = sorted(w for w, c in counts.items() if c > min_count)
        index = {w: i for i, w in enumerate(self.vocab)}
        self.x = np.zeros((len(toks), len(self.vocab)))
        for row, ts in enumerate(toks):
            for w in ts:
                if w in index:
                    self.x[row, index[w]] += 1
        labels = np.asarray(labels)
        self.negative = labels == 0
        self.positive = labels == 2 if mode == 'np' else labels >= 1

    def value(self, member: np.ndarray) -> float:
        n = self.x[member & self.negative].sum(0)
        p = self.x[member & self.positive].sum(0)
        return self._f(n, p)

    @staticmethod
    def _f(n: np.ndarray, p: np.ndarray) -> float:
        return float((np.abs(n - p) / (n + p + 1e-6)).sum())

    def anneal(self, size: int, steps: int, seed: int, t0: float = 0.1,
               cooling: float = 0.999) -> Dict:
        """The subset of ``size`` rows minimising F found in ``steps``
        moves; returns its boolean membership and F at start and end."""
        num = len(self.x)
        if not 0 < size < num:
            raise ValueError(f'the test set must hold between 1 and '
                             f'{num - 1} of the {num} pooled samples, got '
                             f'{size}')
        rng = np.random.default_rng(seed)
        member = np.zeros(num, bool)
        member[rng.choice(num, size, replace=False)] = True
        sign = self.negative.astype(float) - self.positive.astype(float)
        side_n = self.x[member & self.negative].sum(0)
        side_p = self.x[member & self.positive].sum(0)
        current = start = self._f(side_n, side_p)
        best, best_member = current, member.copy()
        t = t0
        for _ in range(steps):
            out = rng.choice(np.flatnonzero(member))
            into = rng.choice(np.flatnonzero(~member))
            n, p = side_n.copy(), side_p.copy()
            for row, direction in ((out, -1.0), (into, 1.0)):
                if sign[row] > 0:
                    n += direction * self.x[row]
                elif self.positive[row]:
                    p += direction * self.x[row]
            value = self._f(n, p)
            if value <= current or rng.random() < np.exp(
                    (current - value) / max(t, 1e-12)):
                member[out], member[into] = False, True
                side_n, side_p, current = n, p, value
                if current < best:
                    best, best_member = current, member.copy()
            t *= cooling
        return dict(member=best_member, objective_start=start,
                    objective=best)


def repartition(splits: Dict[str, List[dict]], pool: str = 'test',
                seed: int = 0, test_fraction: float = 0.5,
                min_count: int = 50, mode: str = 'np', steps: int = 20000
                ) -> Dict:
    """New train / val / test entry lists and what was done (``info``).

    Args:
        splits: The prepared splits' entries (``raw_text`` and ``label3``
            in each, as ``prepare_sentiment.py`` writes them).
        pool, seed, test_fraction, min_count, mode, steps: See the module
            docstring.
    """
    if pool not in ('test', 'all'):
        raise ValueError(f"pool must be 'test' or 'all', got {pool!r}")
    missing = [s for s in SPLITS if s not in splits]
    if missing:
        raise KeyError(f'repartition needs the splits {list(SPLITS)}; '
                       f'missing {missing}')
    for split in SPLITS:
        for entry in splits[split]:
            lacking = [k for k in ('raw_text', 'label3', 'sample_id')
                       if k not in entry]
            if lacking:
                raise KeyError(
                    f'{split} entry {entry.get("sample_id")!r} lacks '
                    f'{lacking}; prepare the folder with '
                    'tools/data/prepare_sentiment.py')
    sizes = {s: len(splits[s]) for s in SPLITS}
    pooled = list(splits['test']) if pool == 'test' else \
        [e for s in SPLITS for e in splits[s]]
    size = int(round(test_fraction * sizes['test'])) if pool == 'test' \
        else sizes['test']
    objective = BalanceObjective([e['raw_text'] for e in pooled],
                                 [int(e['label3']) for e in pooled],
                                 min_count, mode)
    if not objective.vocab:
        raise ValueError(f'no word occurs more than {min_count} times in the '
                         f'pool of {len(pooled)} utterances; lower '
                         '--min-count')
    found = objective.anneal(size, steps, seed)
    member = found['member']
    test = [e for e, m in zip(pooled, member) if m]
    if pool == 'test':
        out = dict(train=list(splits['train']), val=list(splits['val']),
                   test=test)
    else:
        rest = [e for e, m in zip(pooled, member) if not m]
        order = np.random.default_rng(seed + 1).permutation(len(rest))
        rest = [rest[i] for i in order]
        out = dict(train=rest[:sizes['train']], val=rest[sizes['train']:],
                   test=test)
    info = dict(rule='CLUE-style word-balanced test set (armlab; not '
                "CIDer's split)", pool=pool, seed=seed,
                test_fraction=test_fraction if pool == 'test' else None,
                min_count=min_count, mode=mode, steps=steps,
                vocabulary=objective.vocab,
                objective_random_start=found['objective_start'],
                objective=found['objective'],
                sizes={s: len(v) for s, v in out.items()},
                official_sizes=sizes)
    return dict(splits=out, info=info)

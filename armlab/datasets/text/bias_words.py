"""CIDer's bias words: the frequent tokens whose use differs most by class.

MACI's second part (configs/cider/README.md) debiases the text at inference
with a counterfactual: keep only the tokens that carry the spurious
label-word association, mask the rest, and subtract the counterfactual's
log-probability. The tokens are chosen from the training split only:

- n_w(k): occurrences of token w in the training samples of class k
  (repeats count), S_w = sum_k n_w(k);
- cv_w = std_k(n_w(k)) / mean_k(n_w(k)) over ``cv_classes`` (population
  std; CIDer uses negative and positive of the 3-class task, every class of
  the 7-class one);
- B: the ``top_k`` tokens with cv_w >= ``min_cv`` and the largest S_w
  (ties keep first-seen order).

Special tokens (BERT's pad, [UNK], [CLS], [SEP], [MASK]) are never counted.
A token seen in no ``cv_classes`` sample has no cv and is never chosen
(CIDer's code gives it the previous token's cv).
"""
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np
import torch

#: BERT-base-uncased ids of [PAD], [UNK], [CLS], [SEP], [MASK].
BERT_SPECIAL_IDS = (0, 100, 101, 102, 103)


def read_token_ids(path: str, sample: str = '') -> np.ndarray:
    """(L,) int64 token ids of a prepared ``text_ids`` file: the first row
    of MMSA's (3, L) ids / mask / segment array, or an (L,) array.

    Raises:
        OSError / ValueError: naming the file, when it cannot be read or
            has another shape.
    """
    try:
        ids = np.load(path)
    except (OSError, ValueError) as err:
        raise OSError(f'cannot read token ids {path} {sample}: {err}') \
            from err
    if ids.ndim == 2 and ids.shape[0] == 3:
        ids = ids[0]
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f'{path} {sample}: token ids must be (3, L) or (L,) '
                         f'integers, got {ids.dtype} {ids.shape}')
    return ids.astype(np.int64)


def default_cv_classes(num_classes: int) -> Tuple[int, ...]:
    """CIDer's: negative and positive of the 3-class task, else all."""
    return (0, 2) if num_classes == 3 else tuple(range(num_classes))


def bias_token_ids(samples: Iterable[Tuple[np.ndarray, int]],
                   num_classes: int, top_k: int = 100, min_cv: float = 0.1,
                   cv_classes: Optional[Sequence[int]] = None,
                   special_ids: Sequence[int] = BERT_SPECIAL_IDS
                   ) -> np.ndarray:
    """(≤ top_k,) int64 bias token ids from (token ids, label) pairs."""
    cv_classes = tuple(cv_classes if cv_classes is not None else
                       default_cv_classes(num_classes))
    bad = [k for k in cv_classes if not 0 <= k < num_classes]
    if bad:
        raise ValueError(f'bias_token_ids: cv_classes {bad} outside '
                         f'0..{num_classes - 1}')
    specials = set(int(i) for i in special_ids)
    counts, first_seen = {}, {}
    for ids, label in samples:
        if not 0 <= int(label) < num_classes:
            raise ValueError(f'bias_token_ids: label {label} outside '
                             f'0..{num_classes - 1}')
        for w in np.asarray(ids, dtype=np.int64).reshape(-1).tolist():
            if w in specials:
                continue
            if w not in counts:
                counts[w] = np.zeros(num_classes, np.int64)
                first_seen[w] = len(first_seen)
            counts[w][int(label)] += 1
    chosen = []
    for w, n in counts.items():
        part = n[list(cv_classes)].astype(np.float64)
        if part.mean() > 0 and part.std() / part.mean() >= min_cv:
            chosen.append(w)
    chosen.sort(key=lambda w: (-int(counts[w].sum()), first_seen[w]))
    return np.asarray(chosen[:top_k], dtype=np.int64)


def counterfactual_keep(ids: torch.Tensor, bias_ids: torch.Tensor,
                        special_ids: Sequence[int] = BERT_SPECIAL_IDS
                        ) -> torch.Tensor:
    """(B, L) True on the steps the counterfactual text keeps: special
    tokens and bias tokens; every other step is masked."""
    specials = torch.as_tensor(list(special_ids), device=ids.device)
    return torch.isin(ids, specials) | torch.isin(ids, bias_ids)

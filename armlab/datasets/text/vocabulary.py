"""A word vocabulary built from the training split only, saved as JSON.

Building it from train alone keeps validation and test words unseen, as they
would be at deployment: an unseen word becomes ``[UNK]``. The prepare scripts
write ``vocab.json`` next to the annotations; ``Tokenize`` loads it.
"""
import json
import os
import os.path as osp
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .tokenizer import word_tokenize

PAD, UNK, CLS, SEP = '[PAD]', '[UNK]', '[CLS]', '[SEP]'
#: Special tokens, in id order: [PAD] is 0 (what padding-aware encoders
#: mask) and [UNK] is 1.
SPECIALS: Tuple[str, ...] = (PAD, UNK, CLS, SEP)
PAD_ID, UNK_ID, CLS_ID, SEP_ID = range(len(SPECIALS))


class Vocabulary:
    """Token <-> id mapping whose first ids are :data:`SPECIALS`.

    Args:
        tokens: Every token in id order, starting with the specials.
        lowercase: Whether texts are lower-cased before lookup (recorded in
            the file so that encoding matches the build).
        meta: Free-form build information saved with the vocabulary.
    """

    def __init__(self, tokens: Sequence[str], lowercase: bool = True,
                 meta: Optional[dict] = None) -> None:
        tokens = list(tokens)
        if tuple(tokens[:len(SPECIALS)]) != SPECIALS:
            raise ValueError(f'Vocabulary: the first tokens must be '
                             f'{list(SPECIALS)}, got {tokens[:len(SPECIALS)]}')
        index: Dict[str, int] = {}
        for i, token in enumerate(tokens):
            if token in index:
                raise ValueError(f'Vocabulary: duplicate token {token!r} '
                                 f'(ids {index[token]} and {i})')
            index[token] = i
        self.tokens = tokens
        self.index = index
        self.lowercase = lowercase
        self.meta = dict(meta or {})

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 1,
              max_size: Optional[int] = None,
              lowercase: bool = True) -> 'Vocabulary':
        """Count the words of ``texts`` (the training split only).

        Words seen fewer than ``min_freq`` times are left out; the most
        frequent words are kept so that the vocabulary, specials included,
        has at most ``max_size`` tokens. Ties are broken alphabetically, so
        the same texts give the same ids on every machine.
        """
        if min_freq < 1:
            raise ValueError(f'Vocabulary.build: min_freq must be >= 1, got '
                             f'{min_freq}')
        if max_size is not None and max_size < len(SPECIALS):
            raise ValueError(f'Vocabulary.build: max_size must be >= '
                             f'{len(SPECIALS)} (the specials), got {max_size}')
        counts: Counter = Counter()
        num_texts = 0
        for text in texts:
            counts.update(word_tokenize(text, lowercase))
            num_texts += 1
        for special in SPECIALS:
            counts.pop(special.lower() if lowercase else special, None)
            counts.pop(special, None)
        words = sorted((w for w, c in counts.items() if c >= min_freq),
                       key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:max_size - len(SPECIALS)]
        meta = dict(min_freq=min_freq, max_size=max_size,
                    num_texts=num_texts, num_words_seen=len(counts),
                    num_tokens_seen=int(sum(counts.values())))
        return cls([*SPECIALS, *words], lowercase=lowercase, meta=meta)

    # ------------------------------------------------------------ file I/O
    def save(self, path: str) -> None:
        """Write the vocabulary as JSON (temporary file, then rename)."""
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        payload = dict(tokenizer='word', lowercase=self.lowercase,
                       specials=list(SPECIALS), meta=self.meta,
                       tokens=self.tokens)
        tmp = f'{path}.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(payload, f, ensure_ascii=False, indent=0)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> 'Vocabulary':
        """Read a file written by :meth:`save`."""
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'vocabulary file not found: {path!r} (the prepare script '
                f'writes vocab.json next to the annotations)')
        try:
            with open(path, encoding='utf-8') as f:
                payload = json.load(f)
            tokens = payload['tokens']
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(f'{path}: not a vocabulary file ({err!r}); '
                             f'expected JSON with a "tokens" list') from None
        if payload.get('tokenizer', 'word') != 'word':
            raise ValueError(f'{path}: tokenizer {payload["tokenizer"]!r} is '
                             f'not supported; expected "word"')
        return cls(tokens, lowercase=payload.get('lowercase', True),
                   meta=payload.get('meta'))

    # ------------------------------------------------------------ encoding
    def __len__(self) -> int:
        return len(self.tokens)

    def token_to_id(self, token: str) -> int:
        return self.index.get(token, UNK_ID)

    def id_to_token(self, idx: int) -> str:
        return self.tokens[idx] if 0 <= idx < len(self.tokens) else UNK

    def encode(self, text: str, max_length: int, add_cls: bool = True,
               add_sep: bool = False) -> Tuple[np.ndarray, int]:
        """Text -> int64 ids (max_length,) padded with [PAD], and the number
        of real tokens (specials included).

        Long texts are truncated (the words at the end are dropped); an empty
        text without [CLS] becomes a single [UNK], so no sequence is all
        padding.
        """
        room = max_length - int(add_cls) - int(add_sep)
        if room < 1:
            raise ValueError(f'Vocabulary.encode: max_length {max_length} '
                             f'leaves no room for words')
        ids = [self.token_to_id(t)
               for t in word_tokenize(text, self.lowercase)[:room]]
        if add_cls:
            ids.insert(0, CLS_ID)
        if add_sep:
            ids.append(SEP_ID)
        if not ids:
            ids = [UNK_ID]
        out = np.full(max_length, PAD_ID, dtype=np.int64)
        out[:len(ids)] = ids
        return out, len(ids)

    def decode(self, ids: Iterable[int], skip_pad: bool = True) -> List[str]:
        """Ids -> token strings (padding dropped)."""
        return [self.id_to_token(int(i)) for i in ids
                if not (skip_pad and int(i) == PAD_ID)]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={len(self)}, '
                f'lowercase={self.lowercase})')


def build_vocab_file(train_texts: Iterable[str], path: str,
                     min_freq: int = 1, max_size: Optional[int] = None,
                     lowercase: bool = True) -> Vocabulary:
    """Build the vocabulary from the training texts and save it to ``path``.

    What every prepare script calls; pass the training split's texts only.
    """
    vocab = Vocabulary.build(train_texts, min_freq=min_freq,
                             max_size=max_size, lowercase=lowercase)
    vocab.save(path)
    return vocab

"""Text transforms: read a text, turn it into padded int64 token ids.

``LoadText`` reads ``results['<key>_path']`` (a UTF-8 ``.txt`` file) or,
when there is no path, an inline annotation field ``results[key]`` (a str).
``Tokenize`` maps it to ids with the training-split vocabulary
(``vocab.json``); ``PretrainedTokenize`` does the same with a local
``transformers`` tokenizer. Both write ``results[key]`` = int64 (L,) and
``results['<key>_length']`` (real tokens), and keep the text in
``results['<key>_text']`` for inspection tools.
"""
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from armlab.datasets.text import (Vocabulary, load_pretrained_tokenizer,
                                  read_token_ids)
from armlab.registry import TRANSFORMS


def _sample(results: dict) -> str:
    return f"sample {results.get('sample_id', '<unknown>')!r}"


def _text(results: dict, key: str, transform: str) -> str:
    text = results.get(f'{key}_text', results.get(key))
    if not isinstance(text, str):
        raise KeyError(f'{transform}: {_sample(results)} has no text in '
                       f'{key!r} (got {type(text).__name__}); run LoadText '
                       f'first')
    return text


@TRANSFORMS.register_module()
class LoadText(BaseTransform):
    """Read the text of a sample.

    Reads ``results['<key>_path']`` when present, else the inline annotation
    field ``results[key]``; writes ``results[key]`` and
    ``results['<key>_text']`` (the str).

    Args:
        key: Modality key.
        encoding: Encoding of the ``.txt`` files.
        strip: Strip surrounding white space.
    """

    def __init__(self, key: str = 'text', encoding: str = 'utf-8',
                 strip: bool = True) -> None:
        self.key = key
        self.encoding = encoding
        self.strip = strip

    def transform(self, results: dict) -> dict:
        path = results.get(f'{self.key}_path')
        if path is not None:
            try:
                with open(path, encoding=self.encoding) as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as err:
                raise OSError(f'LoadText: cannot read text file {path} '
                              f'({_sample(results)}): {err}') from err
        elif isinstance(results.get(self.key), str):
            text = results[self.key]
        else:
            raise KeyError(f'LoadText: {_sample(results)} has neither '
                           f'{self.key + "_path"!r} nor an inline {self.key!r} '
                           f'string; keys: {sorted(results)}')
        if self.strip:
            text = text.strip()
        results[self.key] = text
        results[f'{self.key}_text'] = text
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(key={self.key!r}, '
                f'encoding={self.encoding!r}, strip={self.strip})')


@TRANSFORMS.register_module()
class LoadTokenIds(BaseTransform):
    """Read a sample's prepared token ids (``results['<key>_path']``, the
    MMSA ``text_bert`` ids that tools/data/prepare_sentiment.py writes to
    ``text_ids/``) into ``results['<key>']`` = int64 (L,), for CIDer's
    counterfactual text at inference (pack it with
    ``meta_keys=(..., 'text_ids')``).

    Args:
        key: The annotation path key (``text_ids``).
    """

    def __init__(self, key: str = 'text_ids') -> None:
        self.key = key

    def transform(self, results: dict) -> dict:
        path = results.get(f'{self.key}_path')
        if path is None:
            raise KeyError(
                f'LoadTokenIds: {_sample(results)} has no '
                f'{self.key + "_path"!r}: the prepared folder holds no token '
                'ids (only MMSA pickles with text_bert carry them)')
        results[self.key] = read_token_ids(path, _sample(results))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(key={self.key!r})'


@TRANSFORMS.register_module()
class Tokenize(BaseTransform):
    """Word-level token ids from the training-split vocabulary.

    Writes ``results[key]`` = int64 (max_length,) ids, [CLS] first when
    ``add_cls``, padded with [PAD] (id 0) and truncated to ``max_length``,
    and ``results['<key>_length']``.

    Args:
        vocab_file: ``vocab.json`` written by the prepare script. A relative
            path is looked up first under ``results['data_root']`` (when the
            dataset provides it), then from the working directory.
        max_length: L, the padded length.
        key: Modality key.
        add_cls: Start with [CLS] (what ``TextEncoder(pooling='cls')``
            reads; harmless for mean pooling).
        add_sep: End with [SEP].
    """

    def __init__(self, vocab_file: str, max_length: int = 32,
                 key: str = 'text', add_cls: bool = True,
                 add_sep: bool = False) -> None:
        if max_length < 1 + int(add_cls) + int(add_sep):
            raise ValueError(f'Tokenize: max_length {max_length} is too '
                             f'small')
        self.vocab_file = vocab_file
        self.max_length = max_length
        self.key = key
        self.add_cls = add_cls
        self.add_sep = add_sep
        self._vocabs = {}  # path -> Vocabulary, read once per process

    def vocabulary(self, results: Optional[dict] = None) -> Vocabulary:
        """The vocabulary (loaded on first use)."""
        path = osp.expanduser(self.vocab_file)
        root = (results or {}).get('data_root')
        if not osp.isabs(path) and root and \
                osp.isfile(osp.join(root, path)):
            path = osp.join(root, path)
        if path not in self._vocabs:
            self._vocabs[path] = Vocabulary.load(path)
        return self._vocabs[path]

    def transform(self, results: dict) -> dict:
        text = _text(results, self.key, 'Tokenize')
        ids, length = self.vocabulary(results).encode(
            text, self.max_length, add_cls=self.add_cls, add_sep=self.add_sep)
        results[self.key] = ids
        results[f'{self.key}_text'] = text
        results[f'{self.key}_length'] = length
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(vocab_file={self.vocab_file!r}, '
                f'max_length={self.max_length}, key={self.key!r}, '
                f'add_cls={self.add_cls}, add_sep={self.add_sep})')


@TRANSFORMS.register_module()
class PretrainedTokenize(BaseTransform):
    """Token ids from a pretrained tokenizer saved in a local folder.

    Needs the optional ``transformers`` package (a clear ImportError at
    construction when it is missing). Writes int64 (max_length,) ids padded
    with the tokenizer's pad id and ``results['<key>_length']``; pair it
    with ``PretrainedTextEncoder`` of the same folder.

    Args:
        path: Local folder of the tokenizer (``save_pretrained`` output).
        max_length: L, the padded length.
        key: Modality key.
    """

    def __init__(self, path: str, max_length: int = 64,
                 key: str = 'text') -> None:
        self.path = path
        self.max_length = max_length
        self.key = key
        self.tokenizer = load_pretrained_tokenizer(path)

    def transform(self, results: dict) -> dict:
        text = _text(results, self.key, 'PretrainedTokenize')
        encoded = self.tokenizer(text, max_length=self.max_length,
                                 truncation=True, padding='max_length')
        ids = np.asarray(encoded['input_ids'], dtype=np.int64)
        results[self.key] = ids
        results[f'{self.key}_text'] = text
        results[f'{self.key}_length'] = int(np.sum(encoded['attention_mask']))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(path={self.path!r}, '
                f'max_length={self.max_length}, key={self.key!r})')

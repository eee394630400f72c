"""Word-level tokenisation: lower-cased words, punctuation split off.

Deliberately simple (no sub-words, no character n-grams): recipe titles and
transcribed utterances are short, and a vocabulary built from the training
split must mean the same thing on every machine, with no external files.
"""
import re
from typing import List

# A word is a run of letters/digits, optionally with an apostrophe suffix
# (don't, chef's); every other non-space character is a token of its own.
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]", re.UNICODE)


def word_tokenize(text: str, lowercase: bool = True) -> List[str]:
    """Split ``text`` into word and punctuation tokens.

    >>> word_tokenize("Chef's BEST apple-pie!")
    ["chef's", 'best', 'apple', '-', 'pie', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f'word_tokenize expects a str, got '
                        f'{type(text).__name__}')
    if lowercase:
        text = text.lower()
    return _TOKEN.findall(text)

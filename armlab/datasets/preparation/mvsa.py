"""MVSA's label files and the cleaning rule the field applies to them.

MVSA (Niu, Zhu, Pang, El Saddik, MMM 2016) pairs a tweet's text with its
image. Annotators labelled the text and the image *separately*
(negative / neutral / positive): MVSA-Single has one annotator per pair,
MVSA-Multiple three. Papers since MultiSentiNet (Xu & Mao, CIKM 2017) train
on one label per pair, derived in prose; the rule armlab applies is written
here once:

* **Merging a (text, image) pair**: equal labels give that label; one
  neutral and one polar label give the polar one; positive against negative
  is inconsistent and the pair is dropped.
* **MVSA-Multiple**: first a majority vote per modality over the three
  annotators (a label needs at least two votes; a three-way split drops the
  pair), then the merge above (``rule='modality-majority'``). The other
  reading, merging each annotator's pair and then voting over annotators,
  is ``rule='annotator-majority'``.

``labelResultAll.txt`` is tab-separated: a header (``ID`` and one
``text,image`` column per annotator), then ``<id>\t<text>,<image>...``.
"""
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

#: The classes, in the order of ``gt_label``.
LABELS = ('negative', 'neutral', 'positive')
RULES = ('modality-majority', 'annotator-majority')
Pair = Tuple[str, str]


def merge_pair(text: str, image: str) -> Optional[str]:
    """One label from a (text, image) pair; None when they contradict."""
    if text == image:
        return text
    if 'neutral' in (text, image):
        return image if text == 'neutral' else text
    return None  # positive against negative


def majority(labels: Sequence[str]) -> Optional[str]:
    """The label given by more than half of the annotators, else None."""
    label, count = Counter(labels).most_common(1)[0]
    return label if count * 2 > len(labels) else None


def clean_label(pairs: Sequence[Pair],
                rule: str = 'modality-majority') -> Optional[str]:
    """The pair's training label from its annotations (None: dropped)."""
    if rule not in RULES:
        raise ValueError(f'MVSA rule must be one of {RULES}, got {rule!r}')
    if len(pairs) == 1:
        return merge_pair(*pairs[0])
    if rule == 'modality-majority':
        text = majority([t for t, _ in pairs])
        image = majority([i for _, i in pairs])
        return None if text is None or image is None \
            else merge_pair(text, image)
    # An annotator whose own pair contradicts itself votes for 'dropped'.
    votes = [merge_pair(t, i) or 'dropped' for t, i in pairs]
    winner = majority(votes)
    return None if winner in (None, 'dropped') else winner


def read_label_file(path: str) -> Dict[str, List[Pair]]:
    """Sample id -> its annotators' (text, image) labels, in file order.

    Raises:
        ValueError: naming the line of a row with an unknown label, a wrong
            number of annotators, or a repeated id.
    """
    out: Dict[str, List[Pair]] = {}
    annotators = None
    with open(path, encoding='utf-8', errors='replace') as f:
        for line_no, line in enumerate(f, start=1):
            cells = [c.strip() for c in line.rstrip('\n').split('\t')]
            if not any(cells):
                continue
            if line_no == 1 and cells[0].lower() == 'id':
                annotators = len(cells) - 1
                continue
            sample_id, rest = cells[0], cells[1:]
            if annotators is None:
                annotators = len(rest)
            if len(rest) != annotators or not sample_id:
                raise ValueError(f'{path}, line {line_no}: expected an id '
                                 f'and {annotators} text,image label(s), '
                                 f'got {cells}')
            pairs = []
            for cell in rest:
                parts = tuple(p.strip().lower() for p in cell.split(','))
                if len(parts) != 2 or any(p not in LABELS for p in parts):
                    raise ValueError(
                        f'{path}, line {line_no}: {cell!r} is not '
                        f'"text,image" with labels from {LABELS}')
                pairs.append(parts)
            if sample_id in out:
                raise ValueError(f'{path}, line {line_no}: id {sample_id} '
                                 'listed twice')
            out[sample_id] = pairs
    if not out:
        raise ValueError(f'{path}: no labelled pairs')
    return out


def decode_text(data: bytes) -> str:
    """A tweet's text: UTF-8, else Latin-1 (the distributed files mix
    encodings), whitespace collapsed."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        text = data.decode('latin-1')
    return ' '.join(text.split())

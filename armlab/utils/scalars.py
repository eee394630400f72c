"""Read the scalars that training logs (``vis_data/scalars.json``)."""
import json
from pathlib import Path
from typing import Dict, List, Tuple


def read_scalar_file(path) -> List[dict]:
    """The rows of one ``scalars.json`` (JSON lines), naming the file and
    line of a row that is not JSON (a run killed mid-write)."""
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}, line {n}: not JSON ({e})') from e
    return rows


def load_scalars(work_dir: str) -> List[dict]:
    """Every logged row of a work dir, oldest run first.

    A resumed run writes a new timestamped folder; rows of later runs follow
    those of earlier ones.
    """
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json under {work_dir!r}: is it a work dir '
            'written by tools/train.py?')
    return [row for f in files for row in read_scalar_file(f)]


def epoch_series(rows: List[dict], key: str) -> Tuple[List[float], List[float]]:
    """(epochs, values) of a per-epoch scalar (validation or hook rows).

    Rows without an ``iter`` field are epoch-level; their ``step`` is the
    1-based epoch. A later row for the same epoch replaces an earlier one.
    """
    by_epoch: Dict[float, float] = {}
    for row in rows:
        if key in row and 'iter' not in row:
            by_epoch[row['step']] = row[key]
    epochs = sorted(by_epoch)
    return epochs, [by_epoch[e] for e in epochs]


def iter_series(rows: List[dict], key: str) -> Tuple[List[float], List[float]]:
    """(global step, values) of a per-iteration training scalar."""
    points = [(row['step'], row[key]) for row in rows
              if key in row and 'iter' in row]
    return [p[0] for p in points], [p[1] for p in points]


def keys_with_prefix(rows: List[dict], prefix: str) -> List[str]:
    """Sorted scalar names starting with ``prefix``."""
    return sorted({k for row in rows for k in row if k.startswith(prefix)})

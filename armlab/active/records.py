"""What each round leaves on disk: metrics, selections, the CSV.

All JSON goes through ``write_atomic`` (temporary file + rename), so an
interrupted run never leaves a half-written record for ``--resume`` to trip
over.
"""
import csv
import io
import json
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from armlab.fileio.atomic_local import write_atomic


def write_json(obj, path: str) -> None:
    write_atomic(json.dumps(obj, indent=1, default=_plain).encode(), path)


def read_json(path: str):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _plain(value):
    """numpy / torch scalars and arrays as JSON values."""
    if isinstance(value, (np.integer, )):
        return int(value)
    if isinstance(value, (np.floating, )):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if torch.is_tensor(value):
        return value.tolist()
    raise TypeError(f'not JSON serialisable: {type(value).__name__}')


def summarize_metrics(metrics: Dict[str, float],
                      modalities: Sequence[str]) -> Dict[str, float]:
    """Canonical names of one split's ``MultimodalAccuracy`` metrics.

    ``top1``, ``f1`` (macro), ``acc_<m>`` (masked: fused head with only m
    present), ``share_<m>`` (m's Shapley share of accuracy, %) and ``gap``
    (largest minus smallest share: |share_a - share_v| for two modalities).
    Missing metrics are left out.
    """
    out = {}
    for name, key in (('top1', 'accuracy/top1'), ('f1', 'f1/macro')):
        if key in metrics:
            out[name] = float(metrics[key])
    for m in modalities:
        if f'acc_{m}_mask' in metrics:
            out[f'acc_{m}'] = float(metrics[f'acc_{m}_mask'])
        if f'shapley_share_{m}' in metrics:
            out[f'share_{m}'] = float(metrics[f'shapley_share_{m}'])
    shares = [out[f'share_{m}'] for m in modalities if f'share_{m}' in out]
    if len(shares) == len(modalities) and len(shares) > 1:
        out['gap'] = max(shares) - min(shares)
    return out


def selection_record(selected: np.ndarray, position: Dict[int, int],
                     labels: np.ndarray, classes: Optional[Sequence[str]],
                     shares: Optional[torch.Tensor],
                     modalities: Sequence[str]) -> Dict:
    """Class and dominant-modality histograms of a queried batch.

    Args:
        selected: Dataset indices of the batch.
        position: Dataset index -> row in the pool outputs.
        labels: Labels of every training sample (the batch's are revealed
            by labelling it).
        classes: Class names (None: class indices as names).
        shares: (N_pool, M) BMMAL shares at ŷ, or None without masked heads.
        modalities: Column names of ``shares``.
    """
    from .strategies.bmmal import dominant_modality
    num_classes = len(classes) if classes else int(labels.max()) + 1
    names = list(classes) if classes else [str(k) for k in
                                           range(num_classes)]
    counts = np.bincount(labels[selected], minlength=num_classes)
    record = dict(class_histogram={n: int(c) for n, c in zip(names, counts)})
    if shares is not None:
        rows = torch.as_tensor([position[int(i)] for i in selected])
        picked = shares[rows]
        dominant = np.bincount(dominant_modality(picked).numpy(),
                               minlength=len(modalities))
        record['dominant_modality_histogram'] = {
            m: int(c) for m, c in zip(modalities, dominant)}
        record['mean_share_selected'] = {
            m: float(picked[:, i].mean()) for i, m in enumerate(modalities)}
        record['mean_share_pool'] = {
            m: float(shares[:, i].mean()) for i, m in enumerate(modalities)}
    return record


def write_csv(rows: List[Dict], path: str) -> None:
    """One row per round; columns in first-seen order, blanks for gaps."""
    columns: List[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval='')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    write_atomic(buf.getvalue().encode(), path)


def _cell(value):
    if isinstance(value, float):
        return '' if math.isnan(value) else round(value, 6)
    return value


def read_csv(path: str) -> List[Dict]:
    """``al_metrics.csv`` back as dicts of floats (ints where whole)."""
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        parsed = {}
        for k, v in row.items():
            if v == '':
                continue
            try:
                parsed[k] = int(v)
            except ValueError:
                try:
                    parsed[k] = float(v)
                except ValueError:
                    parsed[k] = v
        out.append(parsed)
    return out


#: Bumped when the layout of a committed run record changes.
RUN_RECORD_VERSION = 1


def run_record_path(runs_dir: str, strategy: str, seed: int) -> str:
    """``<runs_dir>/<strategy>_seed<k>.json``: one committed record per
    finished (strategy, seed) run of a config."""
    return f'{runs_dir.rstrip("/")}/{strategy}_seed{int(seed)}.json'


def write_run_record(path: str, *, rows: List[Dict], config: str,
                     strategy: str, seed: int, settings: Dict,
                     commit: Dict, machine: str) -> dict:
    """Write the per-round metrics of one finished run as a small JSON that
    a results table can be regenerated from in a fresh clone (the run dir's
    checkpoints stay out of the repository)."""
    record = {'version': RUN_RECORD_VERSION, 'config': config,
              'strategy': strategy, 'seed': int(seed),
              'settings': settings, **commit, 'machine': machine,
              'rows': rows}
    write_atomic((json.dumps(record, indent=1, default=_plain) + '\n'
                  ).encode(), path)
    return record


def read_run_record(path: str) -> dict:
    """A record written by :func:`write_run_record`.

    Raises:
        ValueError: naming the file when it is not such a record.
    """
    record = read_json(path)
    missing = {'version', 'strategy', 'seed', 'rows'} - set(record)
    if missing or record['version'] != RUN_RECORD_VERSION:
        raise ValueError(f'{path}: not an active-learning run record of '
                         f'version {RUN_RECORD_VERSION} (missing '
                         f'{sorted(missing)}, version '
                         f'{record.get("version")!r})')
    return record

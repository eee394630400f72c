"""Tables and plots of robustness sweeps: CSV, JSON, markdown, PNG.

A sweep result is the dict of :func:`armlab.robustness.sweep.run_sweep`
(plus a ``label``); several results of the same sweep, one per method, make
a comparison: the curves, their area (AUILC for missing-modality protocols,
relative robustness RR for corruptions, the same trapezoid), effective
robustness ER against a reference method, and both normalised over the
methods of the table (MultiBench's max-min).
"""
import csv
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from .metrics import (auilc, effective_robustness, normalise_over_methods,
                      relative_robustness)
from .sweep import DEFAULT_METRIC

FILES = ('robustness.csv', 'robustness.json', 'robustness.md',
         'robustness.png')


def load_result(path: str) -> dict:
    """A sweep result from its JSON file or the work dir holding
    ``robustness.json``."""
    file = osp.join(path, 'robustness.json') if osp.isdir(path) else path
    if not osp.isfile(file):
        raise FileNotFoundError(f'no sweep result at {path!r} (expected a '
                                'robustness.json or a work dir of '
                                'tools/robustness.py holding one)')
    with open(file, encoding='utf-8') as f:
        result = json.load(f)
    if 'rows' not in result or 'kind' not in result:
        raise ValueError(f'{file} is not a tools/robustness.py result (no '
                         '"rows" / "kind")')
    return result


def area_name(result: dict) -> Optional[str]:
    """``AUILC`` (missing protocols), ``RR`` (corruptions), None (SMM)."""
    return {'missing': 'AUILC', 'corruption': 'RR'}.get(result['kind'])


def curve(result: dict, metric: str = DEFAULT_METRIC):
    """(levels, values) of a rate / level sweep."""
    rows = result['rows']
    missing = [r.get('level') for r in rows if metric not in r]
    if missing:
        raise KeyError(f'{result.get("label", "result")}: metric {metric!r} '
                       f'missing at levels {missing}; known: '
                       f'{sorted(rows[0])}')
    return [r['level'] for r in rows], [r[metric] for r in rows]


def check_comparable(result: dict, reference: dict) -> None:
    """Refuse to compare sweeps of different protocols, levels or seeds."""
    for key in ('name', 'kind', 'split', 'max_samples'):
        if result.get(key) != reference.get(key):
            raise ValueError(f'reference sweep differs in {key}: '
                             f'{reference.get(key)!r} vs {result.get(key)!r}')
    for key in sorted(set(result['spec']) | set(reference['spec'])):
        mine, theirs = result['spec'].get(key), reference['spec'].get(key)
        if key != 'levels' and mine != theirs:
            raise ValueError(f'reference sweep used another {key} '
                             f'({theirs!r} vs {mine!r}); ER compares the '
                             'same protocol, fill and seed')
    mine, theirs = sweep_points(result), sweep_points(reference)
    if mine != theirs:
        raise ValueError(f'reference points {theirs} differ from {mine}; '
                         'sweep the same levels')


def summarise(results: Dict[str, dict], reference: Optional[str] = None,
              metric: str = DEFAULT_METRIC) -> Dict[str, Dict[str, float]]:
    """Per method: the area (AUILC or RR), ER against ``reference`` and
    both normalised over the methods. Empty for SMM."""
    first = next(iter(results.values()))
    name = area_name(first)
    if name is None or len(first['rows']) < 2:
        return {}
    out = {}
    for label, result in results.items():
        levels, values = curve(result, metric)
        fn = auilc if name == 'AUILC' else relative_robustness
        out[label] = {name: fn(values, levels)}
        if reference is not None:
            check_comparable(result, results[reference])
            out[label]['ER'] = effective_robustness(
                values, curve(results[reference], metric)[1])
    if len(results) < 2:
        return out
    for key in [name] + (['ER'] if reference is not None else []):
        normalised = normalise_over_methods(
            {k: v[key] for k, v in out.items()})
        for label, value in normalised.items():
            out[label][f'{key} (norm.)'] = value
    return out


def _fmt(value: Optional[float], digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '–'
    return f'{value:.{digits}f}'


def comparison_table(results: Dict[str, dict],
                     reference: Optional[str] = None,
                     metric: str = DEFAULT_METRIC) -> List[str]:
    """Markdown rows: one method per row, the metric at every level (or SMM
    subset), then the summaries."""
    first = next(iter(results.values()))
    if first['kind'] == 'subsets':
        heads = [r['present'] for r in first['rows']]
        lines = ['| method | ' + ' | '.join(f'{{{h}}}' for h in heads) + ' |',
                 '|---|' + '---|' * len(heads)]
        for label, result in results.items():
            by = {r['present']: r.get(metric) for r in result['rows']}
            lines.append(f'| {label} | ' +
                         ' | '.join(_fmt(by.get(h)) for h in heads) + ' |')
        return lines
    summary = summarise(results, reference, metric)
    levels = curve(first, metric)[0]
    keys = list(next(iter(summary.values()))) if summary else []
    lines = ['| method | ' + ' | '.join(
        [f'{v:g}' for v in levels] + keys) + ' |',
             '|---|' + '---|' * (len(levels) + len(keys))]
    for label, result in results.items():
        values = curve(result, metric)[1]
        cells = [_fmt(v) for v in values] + [
            _fmt(summary[label][k], 3 if 'norm' in k else 1) for k in keys]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return lines


def write_csv(results: Dict[str, dict], path: str) -> None:
    """Long format: one line per (method, point), every metric a column."""
    metrics: List[str] = []
    for result in results.values():
        for row in result['rows']:
            metrics += [k for k in row if k not in ('level', 'present')
                        and k not in metrics]
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['method', 'sweep', 'point'] + metrics)
        for label, result in results.items():
            for row in result['rows']:
                point = row.get('present', row.get('level'))
                writer.writerow([label, result['name'], point] +
                                [row.get(k, '') for k in metrics])


def plot(results: Dict[str, dict], path: str, title: str,
         metric: str = DEFAULT_METRIC) -> None:
    """Curves (metric vs level) of every method, or grouped bars for SMM."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    first = next(iter(results.values()))
    if first['kind'] == 'subsets':
        heads = [r['present'] for r in first['rows']]
        width = 0.8 / len(results)
        for i, (label, result) in enumerate(results.items()):
            by = {r['present']: r.get(metric, np.nan) for r in result['rows']}
            ax.bar(np.arange(len(heads)) + i * width,
                   [by.get(h, np.nan) for h in heads], width, label=label)
        ax.set_xticks(np.arange(len(heads)) + width * (len(results) - 1) / 2)
        ax.set_xticklabels(['{' + h + '}' for h in heads])
        ax.set_xlabel('present modalities')
    else:
        for label, result in results.items():
            levels, values = curve(result, metric)
            ax.plot(levels, values, marker='o', label=label)
        ax.set_xlabel('missing rate' if first['kind'] == 'missing'
                      else 'corruption level')
    ax.set_ylabel(f'{metric} (%)')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def describe(result: dict) -> str:
    """One line: what was swept, with which fill, seed and split."""
    spec = result['spec']
    if result['kind'] == 'corruption':
        what = f'corruption `{spec["protocol"]}` of {spec["modality"]}'
    else:
        what = f'missing-modality protocol {spec["protocol"]}'
        if spec.get('modality'):
            what += f' ({spec["modality"]} only)'
        fill = spec.get('fill') or ('model' if spec['protocol'] in (
            'RMM', 'SMM') else 'zero')
        what += f', fill {fill}'
        if fill in ('model', 'learned'):
            what += f' (fusion fill: {result.get("model_fill")})'
        if spec['protocol'] == 'RMM':
            what += f', min_present {spec.get("min_present", 0)}'
    samples = result.get('num_samples')
    return (f'{what}; seed {spec["seed"]}; {result["split"]} split'
            + (f' ({samples} samples)' if samples else ''))


def write_sweep(result: dict, work_dir: str,
                reference: Optional[dict] = None,
                command: Optional[str] = None,
                metric: str = DEFAULT_METRIC) -> List[str]:
    """Write robustness.{csv,json,md,png} of one model's sweep (with the
    reference's curve beside it when given); returns the paths."""
    os.makedirs(work_dir, exist_ok=True)
    label = result.get('label', 'model')
    results = {label: result}
    ref_label = None
    if reference is not None:
        check_comparable(result, reference)
        ref_label = reference.get('label', 'reference')
        if ref_label == label:
            ref_label = f'{ref_label} (reference)'
        results[ref_label] = reference
    summary = summarise(results, ref_label, metric)
    saved = dict(result, command=command, summary=summary.get(label, {}))
    if reference is not None:
        saved['reference'] = {'label': ref_label,
                              'summary': summary.get(ref_label, {}),
                              'rows': reference['rows']}
    paths = [osp.join(work_dir, f) for f in FILES]
    write_csv({label: result}, paths[0])
    with open(paths[1], 'w', encoding='utf-8') as f:
        json.dump(saved, f, indent=1)
    lines = [f'# Robustness: {label}, {result["name"]}', '',
             describe(result) + '.', '']
    if command:
        lines += ['```', command, '```', '']
    lines += [f'{metric} (%) per point; ' + _legend(result, reference), '']
    lines += comparison_table(results, ref_label, metric) + ['']
    with open(paths[2], 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    plot(results, paths[3], f'{label}: {result["name"]}', metric)
    return paths


def _legend(result: dict, reference: Optional[dict]) -> str:
    kind = result['kind']
    if kind == 'subsets':
        return 'columns are the modalities present.'
    text = ('AUILC = trapezoid area over the rates.' if kind == 'missing'
            else 'RR = trapezoid area over the levels (relative robustness).')
    if reference is not None:
        text += (' ER = sum over levels of the accuracy above the reference '
                 'curve shifted to the same clean accuracy. (norm.) = '
                 'max-min normalised over the rows (– when they tie).')
    return text


def sweep_points(result: dict) -> Sequence:
    """The levels (or SMM subsets) of a result, for messages."""
    return [r.get('present', r.get('level')) for r in result['rows']]

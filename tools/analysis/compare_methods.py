"""Train a set of configs over seeds (and presets) and tabulate them.

Every run goes through ``tools/train.py`` (so it is exactly what a user
runs); the checkpoint is chosen on the validation split, then the test split
is evaluated at that checkpoint with ``tools/test.py``. For each preset the
table reports mean and std over seeds of the fused and per-modality (masked)
test accuracies, the modalities' Shapley shares of test accuracy, the best
validation accuracy and the wall time per epoch, with the machine and the
command that made it; a bar plot of the same accuracies is written beside it.

``--probe`` adds each encoder's linear-probe accuracy (how much it learned,
whatever the fused head does with it; ``tools/analysis/linear_probe.py``).
``--headroom JOINT`` adds, per preset, the weak modality's headroom table:
the weak modality is the one the joint config's fused head uses least
(lowest masked accuracy); its headroom is its accuracy trained alone (the
unimodal config in the set) minus its accuracy inside the joint model, and
each method's row says which share of it the method closes (masked, and
probe where measured) and its fused accuracy against the joint model's.
``--pairs A:B ...`` adds a table of paired differences A - B (a component
against its control), on validation and on test. ``--runs-dir`` keeps a
record of every run (``docs/results/runs/<table>``); with several folders,
records are written to the first and each config is read from the first
folder holding any of its records.

Usage::

    python tools/analysis/compare_methods.py CONFIG [CONFIG ...] \
        --seeds 0 1 2 --presets audio-dominant visual-dominant \
        --out docs/results/avdigits.md [--probe] \
        [--headroom joint_concat_resnet18_avdigits] [--cfg-options ...]
"""
import argparse
import ast
import json
import os
import os.path as osp
import platform
import pickle
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from armlab.evaluation.run_records import (git_commit,  # noqa: E402
                                           read_record, record_path,
                                           write_record)
from armlab.evaluation.statistics import (hierarchical_bootstrap,  # noqa: E402
                                          paired_t_over_seeds, seed_summary)
from armlab.utils.scalars import epoch_series, load_scalars  # noqa: E402

#: Metrics kept from every run: fused accuracy and F1, per-modality masked
#: accuracy, accuracy on erased samples, Shapley values and shares.
METRIC_PATTERN = re.compile(r'^(accuracy/top1|f1/macro|acc_\w+_mask|'
                            r'acc_erased_\w+|shapley_\w+)$')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument(
        '--presets', nargs='+', default=[None],
        help='dataset presets to run each config under (set on the four '
        'dataloaders); default: the configs as they are')
    parser.add_argument('--work-root', default='work_dirs/compare')
    parser.add_argument('--out', help='markdown file to write (the plot '
                        'goes beside it as .png)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run (key=value); {seed} and '
                        '{preset} in a value are replaced by the run\'s')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse runs whose work dir holds a result, or '
                        'whose record in --runs-dir was made with the same '
                        'options (a fresh clone resumes from the committed '
                        'records)')
    parser.add_argument('--probe', action='store_true',
                        help='also fit a linear probe on each frozen encoder '
                        'of the best checkpoint (cached in the work dir)')
    parser.add_argument('--headroom', metavar='JOINT',
                        help='config name of the joint model: add the weak '
                        "modality's headroom table (needs a unimodal config "
                        'of that modality in the set)')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: tabulate the finished runs and '
                        'list the missing ones')
    parser.add_argument('--runs-dir', metavar='DIR', nargs='+',
                        help='write a record of every finished run in the '
                        'first DIR (docs/results/runs/<table>), and with '
                        '--report-only read the runs from the records of '
                        'these DIRs instead of the work dirs: each config\'s '
                        'from the first DIR holding any of its records')
    parser.add_argument('--reference', metavar='NAME',
                        help='config name every method is compared with '
                        '(paired tests); default: the first joint_* config')
    parser.add_argument('--pairs', nargs='+', default=[], metavar='A:B',
                        help='config-name pairs to test against each other '
                        '(a component against its control): a table of '
                        'paired differences A - B, validation and test')
    parser.add_argument('--retest-stale', action='store_true',
                        help='with --skip-existing: re-evaluate, at their best '
                        'checkpoint, reused runs made before the test metrics '
                        'included Shapley shares')
    return parser.parse_args()


def run(cmd: List[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{proc.stderr[-3000:]}')
    return proc


def preset_options(preset: Optional[str]) -> List[str]:
    """--cfg-options that put every dataloader on ``preset``."""
    if preset is None:
        return []
    return [f'{loader}.dataset.preset={preset}' for loader in LOADERS]


def fill_placeholders(options: List[str], seed: int,
                      preset: Optional[str]) -> List[str]:
    """``{seed}`` and ``{preset}`` in option values become the run's seed
    and preset, so that a run can name a per-seed input (UMT's teachers: the
    unimodal run of the same seed)."""
    return [o.replace('{seed}', str(seed)).replace('{preset}', preset or '')
            for o in options]


def train_and_test(config: str, seed: int, work_dir: str,
                   options: List[str], test: bool = True) -> Dict[str, float]:
    """One run: train, read the best validation epoch, test there (unless
    ``test`` is False: validation metrics only)."""
    result_file = osp.join(work_dir, 'compare_result.json')
    opts = [f'randomness.seed={seed}', *options]
    start = time.time()
    run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
         '--cfg-options', *opts])
    wall = time.time() - start
    rows = load_scalars(work_dir)
    epochs, top1 = epoch_series(rows, 'accuracy/top1')
    if not epochs:
        raise RuntimeError(f'{work_dir}: no validation accuracy was logged')
    best = int(epochs[int(np.argmax(top1))])
    result = {'best_epoch': best, 'epochs': len(epochs),
              'wall_per_epoch_s': wall / len(epochs)}
    keys = {k for row in rows for k in row if METRIC_PATTERN.match(k)}
    for key in sorted(keys):
        ep, values = epoch_series(rows, key)
        by_epoch = dict(zip(ep, values))
        if best in by_epoch:
            result[f'val/{key}'] = by_epoch[best]
        if values:
            result[f'last/{key}'] = values[-1]
    if test:
        result.update(test_at_best(config, work_dir, opts))
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def best_checkpoint(work_dir: str) -> str:
    """The best-validation checkpoint a finished run saved."""
    ckpts = sorted(Path(work_dir).glob('best_*.pth'))
    if not ckpts:
        raise FileNotFoundError(f'{work_dir}: no best_*.pth checkpoint')
    return str(ckpts[-1])


def test_at_best(config: str, work_dir: str,
                 opts: List[str]) -> Dict[str, float]:
    """Test metrics of the best-validation checkpoint of a finished run,
    and ``test_correct``: 0/1 per test sample (dataset order) for the
    fused prediction."""
    with tempfile.TemporaryDirectory() as tmp:
        dump = osp.join(tmp, 'predictions.pkl')
        proc = run([sys.executable, 'tools/test.py', config,
                    best_checkpoint(work_dir),
                    '--split', 'test', '--work-dir',
                    osp.join(work_dir, 'test_at_best'), '--out', dump,
                    '--cfg-options', *opts])
        with open(dump, 'rb') as f:
            predictions = pickle.load(f)
    line = [x for x in proc.stdout.splitlines()
            if x.startswith('test metrics:')][-1]
    test = ast.literal_eval(line.split(':', 1)[1].strip())
    out = {f'test/{k}': v for k, v in test.items() if METRIC_PATTERN.match(k)}
    out['test_correct'] = correctness(predictions)
    return out


def correctness(predictions: List[dict]) -> List[int]:
    """0/1 per sample, in dataset order, from dumped data samples."""
    order = sorted(range(len(predictions)),
                   key=lambda i: int(predictions[i].get('sample_idx', i)))
    return [int(int(predictions[i]['pred_label']) ==
                int(predictions[i]['gt_label'])) for i in order]


def probe_at_best(config: str, work_dir: str, opts: List[str],
                  split: str = 'test') -> Dict[str, float]:
    """Linear-probe accuracy on ``split`` of each encoder of the
    best-validation checkpoint, as ``<split>/probe_<m>``; computed once per
    work dir and split."""
    cached = osp.join(work_dir, 'linear_probe.json' if split == 'test' else
                      f'linear_probe_{split}.json')
    if not osp.isfile(cached):
        run([sys.executable, 'tools/analysis/linear_probe.py', config,
             best_checkpoint(work_dir), '--split', split, '--out', cached,
             '--cfg-options', *opts])
    with open(cached) as f:
        probe = json.load(f)
    return {f'{split}/{k}': v for k, v in probe.items()
            if k.startswith('probe_')}


def config_for(config: str, preset: Optional[str]) -> str:
    """The preset's own variant of ``config`` (``<stem>-<preset>.py``) when
    the method ships one (e.g. AMST swaps its skip factors), else
    ``config`` itself with the preset set through options."""
    if preset:
        variant = f'{osp.splitext(config)[0]}-{preset}.py'
        if osp.isfile(variant):
            return variant
    return config


def modalities_of(results: Dict[str, List[dict]]) -> List[str]:
    """Modalities named by any run's masked accuracies, first seen first."""
    seen: List[str] = []
    for runs in results.values():
        for r in runs:
            for key in r:
                m = re.match(r'^test/acc_(\w+)_mask$', key)
                if m and m.group(1) not in seen:
                    seen.append(m.group(1))
    return seen


def columns(modalities: List[str], probed: bool = False) -> List[tuple]:
    cols = [('test/accuracy/top1', 'test top-1'),
            ('test/f1/macro', 'test macro-F1')]
    cols += [(f'test/acc_{m}_mask', f'test {m} (masked)') for m in modalities]
    cols += [(f'test/shapley_share_{m}', f'{m} Shapley share')
             for m in modalities]
    if probed:
        cols += [(f'test/probe_{m}', f'test {m} probe') for m in modalities]
    cols += [('val/accuracy/top1', 'val top-1 (best)'),
             ('wall_per_epoch_s', 's / epoch')]
    return cols


def cell(values: List[float], runs: Optional[int] = None) -> str:
    """Mean ± sample std (ddof = 1); ``(n=k)`` when only k of ``runs`` runs
    logged it."""
    if not values:
        return '–'
    summary = seed_summary(values)
    text = (f'{summary.mean:.1f}' if summary.std is None else
            f'{summary.mean:.1f} ± {summary.std:.1f}')
    if runs is not None and len(values) < runs:
        text += f' (n={len(values)})'
    return text


def summarise(results: Dict[str, List[dict]]) -> List[str]:
    """A markdown table: one row per config, mean ± std over its runs."""
    probed = any(k.startswith('test/probe_')
                 for runs in results.values() for r in runs for k in r)
    cols = columns(modalities_of(results), probed)
    lines = ['| config | seeds | ' + ' | '.join(c[1] for c in cols) + ' |',
             '|---|---|' + '---|' * len(cols)]
    for config, runs in results.items():
        cells = [cell(values_of(runs, key), len(runs)) for key, _ in cols]
        lines.append(f'| {config_name(config)} | {len(runs)} | ' +
                     ' | '.join(cells) + ' |')
    return lines


def values_of(runs: List[dict], key: str) -> List[float]:
    return [r[key] for r in runs if key in r]


def mean_of(runs: List[dict], key: str) -> Optional[float]:
    values = values_of(runs, key)
    return float(np.mean(values)) if values else None


def closed_share(value: Optional[float], joint: Optional[float],
                 alone: Optional[float]) -> str:
    """Share of the headroom ``alone - joint`` that ``value`` closes."""
    if None in (value, joint, alone) or alone - joint <= 0:
        return '–'
    return f'{100 * (value - joint) / (alone - joint):.0f} %'


def weak_modality(masked: Dict[str, float], alone: Dict[str, float]) -> str:
    """The modality joint training under-trains most: the largest gap
    between its accuracy trained alone and its masked accuracy inside the
    joint model. The lowest masked accuracy can name the other one: a
    modality that dominates the optimisation but generalises poorly is
    both. Also the rule of tools/analysis/diagnose.py."""
    return max(masked, key=lambda m: alone[m] - masked[m])


def alone_reference(by_name: Dict[str, List[dict]],
                    masked_keys: Dict[str, set], ensembles: List[str],
                    modality: str) -> Optional[Tuple[str, str]]:
    """(config name, metric key) of ``modality`` trained alone: its own
    unimodal config, else its member in a unimodal ensemble; None if the
    set has neither."""
    for name, keys in masked_keys.items():
        if keys == {f'test/acc_{modality}_mask'}:
            return name, 'test/accuracy/top1'
    key = f'test/acc_{modality}_mask'
    for name in ensembles:
        if mean_of(by_name[name], key) is not None:
            return name, key
    return None


def headroom_table(results: Dict[str, List[dict]], joint: str,
                   configured: Sequence[str] = ()) -> List[str]:
    """The weak modality's headroom and the share each config closes.

    Args:
        results: config path -> its runs (as in :func:`summarise`).
        joint: config name of the joint model that defines the weak
            modality and the headroom.
        configured: Names of every config asked for, run or not (a
            reference without runs yet gives a line, not an error).
    """
    by_name = {config_name(c): runs for c, runs in results.items()}
    if joint not in by_name:
        raise KeyError(f'--headroom {joint!r} is not among the configs run: '
                       f'{sorted(by_name)}')
    modalities = modalities_of(results)
    masked = {m: mean_of(by_name[joint], f'test/acc_{m}_mask')
              for m in modalities}
    masked = {m: v for m, v in masked.items() if v is not None}
    if len(masked) < 2:
        raise ValueError(f'{joint}: fewer than two masked accuracies; not a '
                         'multimodal model')
    masked_keys = {name: {k for r in runs for k in r
                          if re.match(r'^test/acc_\w+_mask$', k)}
                   for name, runs in by_name.items()}
    ensembles = [name for name in by_name
                 if name.startswith('unimodal_ensemble')]
    alone_refs = {m: alone_reference(by_name, masked_keys, ensembles, m)
                  for m in masked}
    if all(alone_refs.values()):
        weak = weak_modality(masked, {m: mean_of(by_name[n], k)
                                      for m, (n, k) in alone_refs.items()})
        criterion = ('largest gap between its accuracy trained alone and '
                     f'its masked accuracy in {joint}')
    else:
        weak = min(masked, key=masked.get)
        criterion = f'lowest masked accuracy in {joint}'
    if alone_refs[weak] is None:
        references = [n for n in (*by_name, *configured)
                      if n.startswith('unimodal')]
        references = sorted(set(references))
        if not references:
            raise ValueError(f'--headroom needs a unimodal {weak} config or '
                             'a unimodal ensemble in the set (the weak '
                             'modality trained alone)')
        return [f'Headroom not computed yet: no finished run of '
                f"{', '.join(references)} (the weak modality, {weak}, "
                'trained alone).']
    alone_name, alone_key = alone_refs[weak]
    alone_runs = by_name[alone_name]
    alone = mean_of(alone_runs, alone_key)
    alone_probe = mean_of(alone_runs, f'test/probe_{weak}')
    joint_fused = mean_of(by_name[joint], 'test/accuracy/top1')
    joint_probe = mean_of(by_name[joint], f'test/probe_{weak}')
    lines = [f'Weak modality: **{weak}** ({criterion}). '
             f'Trained alone ({alone_name}): '
             f'{cell(values_of(alone_runs, alone_key))}'
             + (f', probe {alone_probe:.1f}' if alone_probe is not None
                else '') +
             f'. Headroom (masked): {alone - masked[weak]:.1f} points'
             + (f'; probe: {alone_probe - joint_probe:.1f} points'
                if None not in (alone_probe, joint_probe) else '') + '.', '',
             f'| config | fused top-1 | Δ fused vs joint | {weak} masked | '
             f'headroom closed (masked) | {weak} probe | '
             'headroom closed (probe) |',
             '|---|---|---|---|---|---|---|']
    if ensembles:
        ensemble_fused = mean_of(by_name[ensembles[0]], 'test/accuracy/top1')
        lines[1:1] = ['', f'Fused headroom: {ensembles[0]} '
                      f'{ensemble_fused:.1f} against {joint} '
                      f'{joint_fused:.1f}: '
                      f'{ensemble_fused - joint_fused:+.1f} points.']
    for name, runs in by_name.items():
        if len(masked_keys[name]) < 2:  # a unimodal model
            continue
        fused = mean_of(runs, 'test/accuracy/top1')
        weak_masked = mean_of(runs, f'test/acc_{weak}_mask')
        weak_probe = mean_of(runs, f'test/probe_{weak}')
        delta = ('–' if None in (fused, joint_fused)
                 else f'{fused - joint_fused:+.1f}')
        lines.append(
            f'| {name} | {cell(values_of(runs, "test/accuracy/top1"))} | '
            f'{delta} | {cell(values_of(runs, f"test/acc_{weak}_mask"))} | '
            f'{closed_share(weak_masked, masked[weak], alone)} | '
            f'{cell(values_of(runs, f"test/probe_{weak}"))} | '
            f'{closed_share(weak_probe, joint_probe, alone_probe)} |')
    return lines


def reference_name(results: Dict[str, List[dict]],
                   reference: Optional[str]) -> Optional[str]:
    """The config every method is tested against: ``reference``, else the
    first joint_* config of the set (None when there is none)."""
    names = [config_name(c) for c in results]
    if reference:
        if reference not in names:
            raise KeyError(f'--reference {reference!r} is not among the '
                           f'configs run: {names}')
        return reference
    return next((n for n in names if n.startswith('joint')), None)


def paired_table(results: Dict[str, List[dict]], reference: str
                 ) -> List[str]:
    """Fused accuracy with its interval over seeds, and each config's
    paired difference from ``reference`` on the seeds both ran."""
    by_name = {config_name(c): runs for c, runs in results.items()}
    lines = [f'Fused test top-1 (%): mean ± sample std over seeds and the '
             f'95 % t-interval of the mean. Δ: the config minus '
             f'**{reference}** on the seeds both ran, with a 95 % '
             'interval and p-value from a paired bootstrap over seeds and '
             'test samples (10,000 resamples), and the p-value of a paired '
             't-test over seeds.', '',
             '| config | seeds | fused top-1 | 95 % CI | Δ vs '
             f'{reference} | Δ 95 % CI | p (bootstrap) | p (t, seeds) |',
             '|---|---|---|---|---|---|---|---|']
    for name, runs in by_name.items():
        fused = values_of(runs, 'test/accuracy/top1')
        if not fused:
            continue
        summary = seed_summary(fused)
        ci = ('–' if summary.low is None else
              f'[{summary.low:.1f}, {summary.high:.1f}]')
        delta = delta_ci = p_boot = p_t = '–'
        if name != reference:
            diff = paired_difference(runs, by_name[reference])
            if diff:
                delta, delta_ci, p_boot, p_t = diff
        lines.append(f'| {name} | {len(fused)} | {cell(fused)} | {ci} | '
                     f'{delta} | {delta_ci} | {p_boot} | {p_t} |')
    return lines


def paired_difference(runs: List[dict], reference: List[dict],
                      key: str = 'test/accuracy/top1'
                      ) -> Optional[Tuple[str, str, str, str]]:
    """Δ = runs - reference on the seeds both ran: the difference, its 95 %
    interval and p-value from a paired bootstrap over seeds and test samples
    (test accuracy only, which has per-sample records), and the p-value of
    a paired t-test over seeds; None when no seed is shared."""
    ref = {r['seed']: r for r in reference}
    pairs = [(r, ref[r['seed']]) for r in runs
             if r['seed'] in ref and key in r and key in ref[r['seed']]]
    if not pairs:
        return None
    diffs = [a[key] - b[key] for a, b in pairs]
    delta, delta_ci, p_boot = f'{np.mean(diffs):+.1f}', '–', '–'
    if key == 'test/accuracy/top1' and all(
            'test_correct' in a and 'test_correct' in b for a, b in pairs):
        boot = hierarchical_bootstrap([a['test_correct'] for a, _ in pairs],
                                      [b['test_correct'] for _, b in pairs])
        delta = f'{boot.diff:+.1f}'
        delta_ci = f'[{boot.low:+.1f}, {boot.high:+.1f}]'
        p_boot = format_p(boot.p_value)
    p_t = '–'
    if len(pairs) > 1:
        p_t = format_p(paired_t_over_seeds([a[key] for a, _ in pairs],
                                           [b[key] for _, b in pairs]
                                           ).p_value)
    return delta, delta_ci, p_boot, p_t


def pairs_table(results: Dict[str, List[dict]], pairs: List[str],
                configured: Optional[Sequence[str]] = None) -> List[str]:
    """Each ``A:B`` pair's paired differences A - B, on the validation
    accuracy of the selected checkpoint (what a choice between them may
    read) and on test. A pair of ``configured`` names without runs yet
    gets a row of dashes."""
    by_name = {name: [] for name in configured or []}
    by_name.update({config_name(c): runs for c, runs in results.items()})
    lines = ['Pairs (a component against its control, or one option '
             'against another): Δ = A − B on the seeds both ran; val is the '
             'best-checkpoint validation top-1, test the fused test top-1 '
             '(paired bootstrap interval and p as above, paired t over '
             'seeds).', '',
             '| A | B | seeds | Δ val | p (t, val) | Δ test | Δ test 95 % CI '
             '| p (bootstrap) | p (t, test) |',
             '|---|---|---|---|---|---|---|---|---|']
    for pair in pairs:
        a, sep, b = pair.partition(':')
        if not sep or a not in by_name or b not in by_name:
            raise KeyError(f'--pairs {pair!r}: write A:B with two config '
                           f'names of the set {sorted(by_name)}')
        val = paired_difference(by_name[a], by_name[b],
                                'val/accuracy/top1')
        test = paired_difference(by_name[a], by_name[b])
        if not test:
            lines.append(f'| {a} | {b} | 0 | – | – | – | – | – | – |')
            continue
        seeds = len({r['seed'] for r in by_name[a]} &
                    {r['seed'] for r in by_name[b]})
        v = val or ('–', '–', '–', '–')
        lines.append(f'| {a} | {b} | {seeds} | {v[0]} | {v[3]} | '
                     f'{test[0]} | {test[1]} | {test[2]} | {test[3]} |')
    return lines


def format_p(p: float) -> str:
    return '< 0.001' if p < 0.001 else f'{p:.3f}'


def config_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def plot(results: Dict[str, List[dict]], path: str, title: str) -> None:
    """Grouped bars: fused and masked per-modality test accuracy per
    config, with the std over seeds as error bars."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    modalities = modalities_of(results)
    keys = ['test/accuracy/top1'] + [f'test/acc_{m}_mask'
                                     for m in modalities]
    labels = ['fused'] + [f'{m} (masked)' for m in modalities]
    names = [config_name(c) for c in results]
    x = np.arange(len(names))
    width = 0.8 / len(keys)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names) + 2), 4))
    for i, (key, label) in enumerate(zip(keys, labels)):
        values = [[r[key] for r in runs if key in r]
                  for runs in results.values()]
        means = [np.mean(v) if v else np.nan for v in values]
        stds = [np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values]
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, means, width,
               yerr=stds, capsize=2, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha='right', fontsize=8)
    ax.set_ylabel('test accuracy (%)')
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine() -> str:
    import torch
    if torch.cuda.is_available():
        return (f'Machine: {torch.cuda.get_device_name()}, '
                f'torch {torch.__version__}')
    return (f'Machine: {platform.processor() or platform.machine()}, '
            f'{os.cpu_count()} CPU cores, torch {torch.__version__}, no GPU')


def load_run(args, config: str, preset: Optional[str], seed: int,
             run_config: str, opts: List[str]) -> Optional[dict]:
    """One run's result: from its record (``--runs-dir`` with
    ``--report-only``, or with ``--skip-existing`` when the record was made
    with the same options, so a fresh clone resumes from the committed
    records), its work dir, or by training it now; None when it is
    missing."""
    name = config_name(config)
    tag = f'{name} seed {seed}' + (f' ({preset})' if preset else '')
    if args.runs_dir and (args.report_only or args.skip_existing):
        # A config's records are read from one place: the first folder
        # holding any of them (seeds of two folders, made by different
        # code, are never mixed).
        paths = [record_path(d, preset, name, seed) for d in args.runs_dir]
        path = next((p for p in paths if osp.isdir(osp.dirname(p))),
                    paths[0])
        record = read_record(path) if osp.isfile(path) else None
        reuse = record is not None and (
            args.report_only or (record['cfg_options'] == opts and not (
                args.probe and not any(k.startswith('test/probe_')
                                       for k in record['metrics']))))
        if args.report_only and record is None:
            return None
        if reuse:
            if not args.report_only:
                print(f'[compare] {tag}: from {path}', flush=True)
            return {**record['metrics'],
                    'test_correct': record['test_correct'],
                    'machine': record['machine'], 'commit': record['commit'],
                    'command': record['command']}
    parts = [args.work_root] + ([preset] if preset else []) + \
        [name, f'seed{seed}']
    work_dir = osp.join(*parts)
    cached = osp.join(work_dir, 'compare_result.json')
    # The record keeps the options as given; the run gets them filled.
    opts_as_given, opts = opts, fill_placeholders(opts, seed, preset)
    seed_opts = [f'randomness.seed={seed}', *opts]
    if args.report_only and not osp.isfile(cached):
        return None
    if (args.skip_existing or args.report_only) and osp.isfile(cached):
        with open(cached) as f:
            result = json.load(f)
        stale = not any(k.startswith('test/shapley_share') for k in result) \
            or 'test_correct' not in result
        if args.retest_stale and stale:
            result.update(test_at_best(run_config, work_dir, seed_opts))
            save_json(cached, result)
    else:
        print(f'[compare] {tag} ...', flush=True)
        result = train_and_test(run_config, seed, work_dir, opts)
    if args.probe and not any(k.startswith('test/probe_') for k in result):
        result.update(probe_at_best(run_config, work_dir, seed_opts))
        save_json(cached, result)
    print(f'[compare] {tag}: ' + json.dumps(
        {k: round(v, 2) for k, v in result.items()
         if isinstance(v, (int, float))}), flush=True)
    if args.runs_dir and 'test_correct' in result and not args.report_only:
        record = write_record(
            record_path(args.runs_dir[0], preset, name, seed),
            config=osp.relpath(osp.abspath(config), REPO), preset=preset,
            seed=seed, cfg_options=opts_as_given,
            metrics={k: v for k, v in result.items()
                     if isinstance(v, (int, float))},
            test_correct=result['test_correct'], commit=git_commit(str(REPO)),
            machine=machine(), command=args.command)
        result = {**result, 'commit': record['commit']}
    return result


def save_json(path: str, data: dict) -> None:
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)


def main():
    args = parse_args()
    # The exact command, every flag as given: the tables' "Produced by".
    args.command = 'python tools/analysis/compare_methods.py ' + ' '.join(
        shlex.quote(a) for a in sys.argv[1:])
    sections = [f'Produced by `{args.command}`.', '']
    body: List[str] = []
    machines, commits, commands = set(), set(), set()
    for preset in args.presets:
        results: Dict[str, List[dict]] = {}
        missing: List[str] = []
        for config in args.configs:
            run_config = config_for(config, preset)
            opts = preset_options(preset) + args.cfg_options
            for seed in args.seeds:
                result = load_run(args, config, preset, seed, run_config,
                                  opts)
                if result is None:
                    missing.append(f'{config_name(config)} seed {seed}')
                    continue
                machines.add(result.pop('machine', None) or machine())
                if result.get('commit'):
                    commits.add(str(result.pop('commit'))[:10])
                commands.add(result.pop('command', None) or args.command)
                results.setdefault(config, []).append({**result,
                                                       'seed': seed})
        if preset:
            body += [f'## Preset: {preset}', '']
        reference = reference_name(results, args.reference)
        if reference:
            body += paired_table(results, reference) + ['']
        body += summarise(results) + ['']
        if args.pairs and results:
            body += pairs_table(results, args.pairs,
                                [config_name(c) for c in args.configs]) + ['']
        if missing:
            body += ['Not run yet (left out of the means): ' +
                     ', '.join(missing) + '.', '']
        if args.headroom:
            body += headroom_table(
                results, args.headroom,
                [config_name(c) for c in args.configs]) + ['']
        if args.out and results:
            suffix = f'_{preset}' if preset else ''
            png = osp.splitext(args.out)[0] + suffix + '.png'
            os.makedirs(osp.dirname(png) or '.', exist_ok=True)
            plot(results, png, preset or 'test accuracy')
            body += [f'![{preset or "results"}]({osp.basename(png)})', '']
    sections += [f'Machine{"s" if len(machines) > 1 else ""}: ' +
                 '; '.join(sorted(m.replace('Machine: ', '')
                                  for m in machines)), '']
    if commits:
        sections += ['Runs made at commit(s) ' +
                     ', '.join(f'`{c}`' for c in sorted(commits)) +
                     ' (records in ' + ', '.join(
                         f'`{d}`' for d in args.runs_dir or []) +
                     '), by:', '']
        sections += [f'- `{c}`' for c in sorted(commands)] + ['']
    sections += ['Checkpoint chosen on the validation split; test evaluated '
                 'at that checkpoint. Accuracies in %, mean ± sample std '
                 '(ddof = 1) over seeds. Shapley share: |φ_m| / Σ|φ| of the '
                 'test accuracy game (v(S) = accuracy with only S present). '
                 's / epoch: wall time of the whole training run (validation '
                 'included) over its epochs.', ''] + body
    text = '\n'.join(sections)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()

"""Check a config's datasets before training on them.

For each split: counts per class, referenced files that are missing, samples
whose pipeline fails (every sample is run through the config's pipeline,
with a progress bar), the input shape of each modality, and a PNG of a few
samples (frames/images, spectrograms, feature sequences, token strings).
Writes ``report.json``, ``report.md`` and ``samples_<split>.png`` into
``--out``; exits with status 1 when a file is missing or unreadable.

Example:
    python tools/data/check_dataset.py \
        configs/joint/joint_concat_resnet18_transformer_food101.py \
        --split train val --out work_dirs/check_food101
"""
import argparse
import json
import os
import os.path as osp
import sys
import textwrap
from collections import Counter
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from tqdm import tqdm

from armlab.datasets import MultimodalDataset
from armlab.engine.launch import merge_cli_options
from armlab.registry import DATASETS
from armlab.utils import register_all_modules

LOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader',
           'test': 'test_dataloader'}
#: Problems quoted per kind in the printed summary (all are in the JSON).
_SHOWN = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--split', nargs='+', choices=list(LOADERS),
                        default=list(LOADERS), help='splits to check')
    parser.add_argument('--num-samples', type=int, default=8,
                        help='samples drawn per split in the PNG')
    parser.add_argument('--max-check', type=int, default=None,
                        help='run the pipeline on at most N samples per '
                        'split (default: all)')
    parser.add_argument('--out', default=None,
                        help='output folder (default: work_dirs/'
                        'check_dataset/<config name>)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the drawn samples and augmentations')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys (key=value)')
    return parser.parse_args()


# ----------------------------------------------------------------- checks
def build_dataset(cfg: Config, split: str):
    """The split's dataset, built without failing on missing files."""
    loader = cfg.get(LOADERS[split])
    if not loader:
        raise KeyError(f'the config has no {LOADERS[split]} for split '
                       f'{split!r}')
    dataset_cfg = loader['dataset'].copy()
    dataset_type = dataset_cfg.get('type')
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    if isinstance(dataset_type, type) and \
            issubclass(dataset_type, MultimodalDataset):
        # Missing files are reported below rather than raised here. Every
        # step runs per sample, so that the shapes and drawings are the
        # model's inputs (not waveforms waiting for the batch front-end);
        # no file cache, so that every file is read and checked here.
        dataset_cfg.update(check_files=False, skip_bad_samples=False,
                           on_batch=False, cache=False)
    return DATASETS.build(dataset_cfg)


def missing_files(dataset) -> List[dict]:
    """Every referenced path that does not exist."""
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        for key in info.get('path_keys', ()):
            path = info[f'{key}_path']
            if not osp.exists(path):
                out.append(dict(sample_id=info['sample_id'], key=key,
                                path=path))
    return out


def describe(tensor) -> str:
    """``(3, 1, 32, 32) uint8``: shape and dtype of one packed input."""
    if isinstance(tensor, torch.Tensor):
        return f'{tuple(tensor.shape)} {str(tensor.dtype).split(".")[-1]}'
    return type(tensor).__name__


def run_pipeline(dataset, indices: List[int], skip: set, progress: bool,
                 desc: str):
    """Run the pipeline on ``indices``; collect failures and input shapes."""
    unreadable, shapes = [], {}
    packed: Dict[int, dict] = {}
    for i in tqdm(indices, desc=desc, disable=not progress):
        sample_id = dataset.get_data_info(i)['sample_id']
        if sample_id in skip:
            continue
        try:
            data = dataset.prepare_data(i)
        except Exception as err:  # report every kind of failure by name
            unreadable.append(dict(sample_id=sample_id,
                                   error=f'{type(err).__name__}: {err}'))
            continue
        if data is None:
            unreadable.append(dict(sample_id=sample_id,
                                   error='the pipeline returned None'))
            continue
        for modality, value in data['inputs'].items():
            shapes.setdefault(modality, Counter())[describe(value)] += 1
        packed[i] = data
    return unreadable, {m: dict(c) for m, c in shapes.items()}, packed


# ---------------------------------------------------------------- drawing
def find_vocabulary(dataset):
    """The vocabulary of the pipeline's ``Tokenize``, if it has one."""
    for transform in getattr(dataset.pipeline, 'transforms', []):
        if hasattr(transform, 'vocabulary'):
            try:
                return transform.vocabulary(dataset.get_data_info(0))
            except (OSError, ValueError):
                return None
    return None


def draw_input(ax, value: torch.Tensor, vocab) -> None:
    """One modality of one sample on ``ax``."""
    ax.set_xticks([])
    ax.set_yticks([])
    array = value.detach().cpu()
    if not array.dtype.is_floating_point and array.dtype != torch.uint8 \
            and array.dim() == 1:
        tokens = (vocab.decode(array.tolist()) if vocab is not None
                  else [str(int(i)) for i in array if int(i) != 0])
        ax.text(0.02, 0.98, textwrap.fill(' '.join(tokens), 40),
                va='top', ha='left', fontsize=7, transform=ax.transAxes)
        ax.set_frame_on(False)
        return
    array = array.float().numpy()
    if array.ndim == 4:  # (C, T, H, W) frames: the first frame
        frame = array[:, 0].transpose(1, 2, 0)
        lo, hi = float(frame.min()), float(frame.max())
        frame = (frame - lo) / (hi - lo) if hi > lo else frame * 0
        ax.imshow(frame.squeeze(-1) if frame.shape[-1] == 1 else frame,
                  cmap='gray')
    elif array.ndim == 3:  # (1, F, T) spectrogram
        ax.imshow(array[0], origin='lower', aspect='auto', cmap='magma')
    elif array.ndim == 2:  # (T, D) feature sequence
        ax.imshow(array, aspect='auto', cmap='viridis')
    else:
        ax.plot(array.reshape(-1))


def draw_samples(packed: Dict[int, dict], dataset, path: str,
                 num: int, seed: int) -> Optional[str]:
    """A grid, one row per drawn sample, one column per modality."""
    if not packed or num <= 0:
        return None
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(seed)
    keys = sorted(packed)
    chosen = sorted(rng.choice(keys, size=min(num, len(keys)),
                               replace=False).tolist())
    modalities = list(packed[chosen[0]]['inputs'])
    vocab = find_vocabulary(dataset)
    classes = dataset.CLASSES
    fig, axes = plt.subplots(len(chosen), len(modalities),
                             figsize=(3 * len(modalities), 2.2 * len(chosen)),
                             squeeze=False)
    for row, index in enumerate(chosen):
        data = packed[index]
        label = int(data['data_samples'].gt_label)
        name = classes[label] if classes else str(label)
        sample_id = dataset.get_data_info(index)['sample_id']
        for col, modality in enumerate(modalities):
            ax = axes[row][col]
            draw_input(ax, data['inputs'][modality], vocab)
            ax.set_title(f'{sample_id} ({name})\n{modality}', fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


# ----------------------------------------------------------------- report
def check_split(cfg: Config, split: str, args, out: str) -> dict:
    dataset = build_dataset(cfg, split)
    classes = list(dataset.CLASSES or [])
    labels = dataset.get_gt_labels()
    counts = Counter(int(x) for x in labels)
    missing = missing_files(dataset)
    indices = list(range(len(dataset)))
    if args.max_check is not None:
        indices = indices[:args.max_check]
    unreadable, shapes, packed = run_pipeline(
        dataset, indices, {m['sample_id'] for m in missing},
        not args.no_progress, f'check {split}')
    png = draw_samples(packed, dataset,
                       osp.join(out, f'samples_{split}.png'),
                       args.num_samples, args.seed)
    return dict(
        num_samples=len(dataset),
        counts={(classes[k] if k < len(classes) else str(k)): counts[k]
                for k in sorted(counts)},
        classes_without_samples=[c for i, c in enumerate(classes)
                                 if counts[i] == 0],
        missing=missing, unreadable=unreadable,
        checked=len(indices), shapes=shapes,
        samples_png=osp.basename(png) if png else None)


def markdown(config: str, report: Dict[str, dict]) -> str:
    lines = [f'# Dataset check: {config}', '']
    for split, r in report.items():
        lines += [f'## {split}', '',
                  f'- samples: {r["num_samples"]} (pipeline run on '
                  f'{r["checked"]})',
                  f'- missing files: {len(r["missing"])}',
                  f'- unreadable samples: {len(r["unreadable"])}',
                  '- input shapes: ' + '; '.join(
                      f'{m}: ' + ', '.join(f'{s} x{n}' for s, n in c.items())
                      for m, c in r['shapes'].items()),
                  '', '| class | count |', '|---|---|']
        lines += [f'| {c} | {n} |' for c, n in r['counts'].items()]
        lines += ['']
        for m in r['missing']:
            lines.append(f'- missing: {m["sample_id"]} {m["key"]}: '
                         f'{m["path"]}')
        for u in r['unreadable']:
            lines.append(f'- unreadable: {u["sample_id"]}: {u["error"]}')
        if r['samples_png']:
            lines += ['', f'![{split} samples]({r["samples_png"]})']
        lines.append('')
    return '\n'.join(lines)


def print_summary(split: str, r: dict) -> None:
    print(f'[{split}] {r["num_samples"]} samples, '
          f'{len(r["counts"])} classes; pipeline run on {r["checked"]}')
    print(f'[{split}] per class: ' + ', '.join(
        f'{c}={n}' for c, n in r['counts'].items()))
    if r['classes_without_samples']:
        print(f'[{split}] classes without samples: '
              f'{r["classes_without_samples"]}')
    for modality, shapes in r['shapes'].items():
        print(f'[{split}] input {modality}: ' + ', '.join(
            f'{s} x{n}' for s, n in shapes.items()))
    print(f'[{split}] missing files: {len(r["missing"])}')
    for m in r['missing'][:_SHOWN]:
        print(f'  {m["sample_id"]} {m["key"]}: {m["path"]}')
    print(f'[{split}] unreadable samples: {len(r["unreadable"])}')
    for u in r['unreadable'][:_SHOWN]:
        print(f'  {u["sample_id"]}: {u["error"]}')


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        sys.exit(f'check_dataset: config file {args.config!r} not found')
    register_all_modules()
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    out = args.out or osp.join(
        'work_dirs', 'check_dataset',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out, exist_ok=True)
    np.random.seed(args.seed)
    report = {}
    for split in args.split:
        report[split] = check_split(cfg, split, args, out)
        print_summary(split, report[split])
    with open(osp.join(out, 'report.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(config=args.config, splits=report), f, indent=1)
    with open(osp.join(out, 'report.md'), 'w', encoding='utf-8') as f:
        f.write(markdown(args.config, report))
    bad = sum(len(r['missing']) + len(r['unreadable'])
              for r in report.values())
    print(f'{"problems found" if bad else "all good"}: {bad} missing or '
          f'unreadable; report in {out}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()

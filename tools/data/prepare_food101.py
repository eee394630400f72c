"""Prepare UPMC Food-101 (image + recipe text, 101 classes) for armlab.

Raw layout, as the UPMC Food-101 archive unpacks::

    RAW/images/train/<class>/<name>.jpg
    RAW/images/test/<class>/<name>.jpg
    RAW/texts/train_titles.csv     # rows: name,text,class (no header; a
    RAW/texts/test_titles.csv      #   header row is skipped if present)

What it writes (docs/design.md layout)::

    OUT/annotations/{train,val,test}.json   # paths: visual (image), text
    OUT/text/{train,val,test}/<sample_id>.txt
    OUT/vocab.json                           # built from the train split only
    OUT/meta.json
    OUT/images -> RAW/images                 # a symlink when OUT != RAW

The official test list is kept; validation is carved out of the official
train list, class-stratified and seeded. Sample ids are ``<official split>_
<image name without extension>``.

Example:
    python tools/data/prepare_food101.py --raw data/upmc_food101 \
        --out data/food101
"""
import argparse
import csv
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List

from armlab.datasets.preparation import (carve_validation, check_disjoint,
                                         write_annotations)
from armlab.datasets.preparation.links import link_raw_folder
from armlab.datasets.text import build_vocab_file, text_path, write_texts

TOOL = 'tools/data/prepare_food101.py'
VERSION = 1
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')
OFFICIAL_SPLITS = ('train', 'test')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--raw', required=True,
                        help='the unpacked UPMC Food-101 folder (images/, '
                        'texts/)')
    parser.add_argument('--out', default='data/food101',
                        help='output folder (the dataset data_root)')
    val = parser.add_mutually_exclusive_group()
    val.add_argument('--val-fraction', type=float, default=None,
                     help='validation fraction carved from train (default '
                     '0.1)')
    val.add_argument('--val-size', type=int, default=None,
                     help='validation size carved from train')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument('--min-freq', type=int, default=2,
                        help='vocabulary: minimum count in train')
    parser.add_argument('--max-vocab', type=int, default=30000,
                        help='vocabulary: maximum size, specials included '
                        '(the config\'s TextEncoder vocab_size must be at '
                        'least this)')
    parser.add_argument('--skip-missing', action='store_true',
                        help='drop CSV rows whose image is missing (listed '
                        'in meta.json) instead of failing')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def read_titles(csv_path: str) -> List[Dict[str, str]]:
    """Rows ``name,text,class`` of a UPMC titles file."""
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'{csv_path} not found: expected the UPMC '
                                f'Food-101 texts/{{train,test}}_titles.csv')
    rows = []
    with open(csv_path, newline='', encoding='utf-8') as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise ValueError(f'{csv_path}, line {line_no}: expected 3 '
                                 f'fields name,text,class, got {len(row)}: '
                                 f'{row[:4]}')
            name, text, label = (cell.strip() for cell in row)
            if line_no == 1 and not name.lower().endswith(IMAGE_EXTENSIONS):
                continue  # a header row
            if not name or not label:
                raise ValueError(f'{csv_path}, line {line_no}: empty image '
                                 f'name or class: {row}')
            rows.append(dict(name=name, text=text, label=label,
                             line=str(line_no)))
    if not rows:
        raise ValueError(f'{csv_path}: no rows')
    return rows


def collect(raw: str, split: str, skip_missing: bool):
    """Samples of one official split, and the rows whose image is missing."""
    rows = read_titles(osp.join(raw, 'texts', f'{split}_titles.csv'))
    samples, missing, seen = [], [], set()
    for row in rows:
        image = osp.join('images', split, row['label'], row['name'])
        stem = osp.splitext(row['name'])[0]
        sample_id = f'{split}_{stem}'
        if sample_id in seen:
            raise ValueError(f'texts/{split}_titles.csv, line {row["line"]}:'
                             f' image {row["name"]!r} listed twice')
        seen.add(sample_id)
        if not osp.isfile(osp.join(raw, image)):
            missing.append(f'{split}/{row["label"]}/{row["name"]}')
            continue
        samples.append(dict(sample_id=sample_id, label=row['label'],
                            text=row['text'], image=image))
    if missing and not skip_missing:
        raise FileNotFoundError(
            f'{len(missing)} image(s) listed in texts/{split}_titles.csv are '
            f'missing under {osp.join(raw, "images")}, e.g. {missing[:5]}; '
            f'pass --skip-missing to drop them')
    return samples, missing


def main() -> None:
    args = parse_args()
    if not osp.isdir(osp.join(args.raw, 'images')):
        sys.exit(f'prepare_food101: {args.raw!r} has no images/ folder; '
                 f'give the unpacked UPMC Food-101 folder')
    official, missing = {}, {}
    for split in OFFICIAL_SPLITS:
        official[split], missing[split] = collect(args.raw, split,
                                                  args.skip_missing)
    classes = sorted({s['label'] for s in official['train']})
    unknown = sorted({s['label'] for s in official['test']} - set(classes))
    if unknown:
        sys.exit(f'prepare_food101: test classes {unknown[:5]} never occur '
                 f'in train')

    train = official['train']
    labels = [s['label'] for s in train]
    if args.val_size is None and args.val_fraction is None:
        args.val_fraction = 0.1
    train_idx, val_idx = carve_validation(
        labels, range(len(train)), size=args.val_size,
        fraction=args.val_fraction, seed=args.seed)
    splits = {'train': [train[i] for i in train_idx],
              'val': [train[i] for i in val_idx],
              'test': official['test']}
    check_disjoint({k: [s['sample_id'] for s in v]
                    for k, v in splits.items()})

    os.makedirs(args.out, exist_ok=True)
    link_raw_folder(args.raw, args.out, 'images')
    vocab = build_vocab_file((s['text'] for s in splits['train']),
                             osp.join(args.out, 'vocab.json'),
                             min_freq=args.min_freq, max_size=args.max_vocab)
    extra_meta = dict(
        tool=TOOL, version=VERSION,
        params=dict(seed=args.seed, val_fraction=args.val_fraction,
                    val_size=args.val_size, min_freq=args.min_freq,
                    max_vocab=args.max_vocab,
                    skip_missing=args.skip_missing),
        vocab=dict(file='vocab.json', size=len(vocab), built_from='train'),
        missing_images={k: v for k, v in missing.items() if v})
    for split, samples in splits.items():
        write_texts(args.out, split,
                    ((s['sample_id'], s['text']) for s in samples),
                    progress=not args.no_progress)
        entries = [dict(sample_id=s['sample_id'], gt_label=s['label'],
                        paths=dict(visual=s['image'],
                                   text=text_path(split, s['sample_id'])))
                   for s in sorted(samples, key=lambda s: s['sample_id'])]
        write_annotations(args.out, split, entries, classes,
                          ('visual', 'text'), 'UPMC-Food-101', extra_meta)
        counts = Counter(s['label'] for s in samples)
        print(f'{split}: {len(samples)} samples, {len(counts)} classes')
    skipped = sum(len(v) for v in missing.values())
    print(f'vocabulary: {len(vocab)} tokens from the train split; '
          f'skipped {skipped} row(s) with a missing image; wrote {args.out}')


if __name__ == '__main__':
    main()

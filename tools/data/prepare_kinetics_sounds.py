"""Prepare Kinetics-Sounds (31 classes of Kinetics-400 with audible actions).

Kinetics-Sounds is not distributed on its own: it is a class subset of
Kinetics-400 (downloaded from YouTube, e.g. with the CVDF mirror). Two raw
layouts are read:

1. Split lists (OGM-GE's 14,799 train / 2,597 test clips) as CSV files
   ``youtube_id,label`` (header optional; label = class name, or an index
   into the class list), with the videos anywhere under --raw, named
   ``<youtube_id>.mp4`` or Kinetics' ``<youtube_id>_<start>_<end>.mp4``::

       python tools/data/prepare_kinetics_sounds.py --raw kinetics400 \
           --train-list ks_train.csv --test-list ks_test.csv --out data/ks

2. A Kinetics-400 folder layout, keeping the Kinetics-Sounds classes::

       kinetics400/train/<class>/<youtube_id>_<start>_<end>.mp4
       kinetics400/val/<class>/...        (used as test)
   or  <raw>/<class>/<youtube_id>_<start>_<end>.mp4   (seeded 80/10/10)

   Class folders match the class list ignoring case, spaces and
   underscores (``playing_bagpipes`` = ``playing bagpipes``).

The class list is pinned (KS_CLASSES below: the 31 classes listed in
IBM/AdaMML#3, sorted; OGM-GE does not publish its 31 names); --classes FILE
(one name per line) replaces it. Validation is carved from train
(class-stratified, --val-fraction). Writes the layout of docs/design.md.
"""
import argparse
import csv
import os
import os.path as osp
import re
import sys

#: The 31 Kinetics-Sounds classes (Kinetics-400 names), alphabetical.
KS_CLASSES = (
    'blowing nose', 'blowing out candles', 'bowling', 'chopping wood',
    'dribbling basketball', 'laughing', 'mowing lawn', 'playing accordion',
    'playing bagpipes', 'playing bass guitar', 'playing clarinet',
    'playing drums', 'playing guitar', 'playing harmonica',
    'playing keyboard', 'playing organ', 'playing piano',
    'playing saxophone', 'playing trombone', 'playing trumpet',
    'playing violin', 'playing xylophone', 'ripping paper',
    'shoveling snow', 'shuffling cards', 'singing', 'stomping grapes',
    'tap dancing', 'tapping guitar', 'tapping pen', 'tickling')
YTID = re.compile(r'^([A-Za-z0-9_-]{11})(?:_(\d+)_(\d+))?$')


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.av_pipeline import add_common_args
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    add_common_args(parser, front_end='ks_fbank')
    parser.add_argument('--train-list', help='CSV youtube_id,label')
    parser.add_argument('--test-list', help='CSV youtube_id,label')
    parser.add_argument('--classes', help='class list file (one per line); '
                        'default: the pinned 31 classes')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='validation share carved from train')
    return parser.parse_args(argv)


def norm(name: str) -> str:
    """Class-name key that ignores case, spaces and underscores."""
    return re.sub(r'[\s_]+', ' ', name.strip().lower())


def read_classes(path) -> tuple:
    if not path:
        return KS_CLASSES
    with open(path, encoding='utf-8') as f:
        names = tuple(line.strip() for line in f if line.strip())
    if len(set(map(norm, names))) != len(names):
        raise ValueError(f'{path}: duplicate class names')
    return names


def read_list(path: str, classes: tuple) -> list:
    """(youtube_id, class name) rows of a split list."""
    lookup = {norm(c): c for c in classes}
    rows = []
    with open(path, newline='', encoding='utf-8') as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row or not row[0].strip():
                continue
            ytid, label = row[0].strip(), (row[1].strip() if len(row) > 1
                                           else '')
            if line_no == 1 and not YTID.match(ytid):
                continue  # header
            if label.isdigit():
                if int(label) >= len(classes):
                    raise ValueError(f'{path}:{line_no}: label {label} but '
                                     f'only {len(classes)} classes')
                label = classes[int(label)]
            elif norm(label) in lookup:
                label = lookup[norm(label)]
            else:
                raise ValueError(f'{path}:{line_no}: class {label!r} is not '
                                 'in the class list (pass --classes)')
            rows.append((ytid, label))
    return rows


def from_lists(args, classes) -> list:
    """Samples of list mode, with train / test from the lists."""
    from armlab.datasets.preparation.av_pipeline import (index_videos,
                                                         report_missing)
    videos = index_videos(args.raw)
    by_id = {}
    for stem, path in videos.items():
        match = YTID.match(stem)
        if match:
            by_id.setdefault(match.group(1), (stem, path))
    samples, missing, seen = [], [], set()
    for split, path in (('train', args.train_list), ('test', args.test_list)):
        for ytid, label in read_list(path, classes):
            if ytid in seen:
                raise ValueError(f'{path}: {ytid} is listed twice (or in '
                                 'both lists)')
            seen.add(ytid)
            if ytid not in by_id:
                missing.append(ytid)
                continue
            stem, video = by_id[ytid]
            samples.append(dict(sample_id=stem, label=label, split=split,
                                video=video, youtube_id=ytid))
    report_missing(args.out, missing)
    return samples


def from_folders(args, classes) -> list:
    """Samples of folder mode; split 'train'/'test' or None (to split)."""
    lookup = {norm(c): c for c in classes}
    roots = [(s, osp.join(args.raw, d)) for s, d in (('train', 'train'),
                                                     ('test', 'val'))
             if osp.isdir(osp.join(args.raw, d))]
    if not roots:
        roots = [(None, args.raw)]
    from armlab.datasets.preparation.av_pipeline import index_videos
    samples = []
    for split, root in roots:
        folders = sorted(d for d in os.listdir(root)
                         if osp.isdir(osp.join(root, d)))
        for folder in folders:
            if norm(folder) not in lookup:
                continue
            for stem, video in sorted(index_videos(
                    osp.join(root, folder)).items()):
                match = YTID.match(stem)
                samples.append(dict(sample_id=stem, label=lookup[norm(folder)],
                                    split=split, video=video,
                                    youtube_id=match.group(1) if match
                                    else None))
    if not samples:
        raise FileNotFoundError(f'no class folder of the class list under '
                                f'{[r for _, r in roots]}')
    return samples


def assign_splits(samples: list, args) -> list:
    from armlab.datasets.preparation.splits import (carve_validation,
                                                    stratified_split)
    samples = sorted(samples, key=lambda s: s['sample_id'])
    ids = [s['sample_id'] for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError('two videos share a sample id across splits')
    labels = [s['label'] for s in samples]
    if all(s['split'] is None for s in samples):
        parts = stratified_split(labels, {'train': 0.8, 'val': 0.1,
                                          'test': 0.1}, args.seed)
    else:
        train = [i for i, s in enumerate(samples) if s['split'] == 'train']
        train, val = carve_validation(labels, train,
                                      fraction=args.val_fraction,
                                      seed=args.seed)
        parts = {'train': train, 'val': val,
                 'test': [i for i, s in enumerate(samples)
                          if s['split'] == 'test']}
    for split, idx in parts.items():
        for i in idx:
            samples[i]['split'] = split
    return samples


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.av_pipeline import run_preparation
    classes = read_classes(args.classes)
    if bool(args.train_list) != bool(args.test_list):
        raise ValueError('pass both --train-list and --test-list, or neither')
    samples = (from_lists if args.train_list else from_folders)(args,
                                                                classes)
    samples = assign_splits(samples, args)
    run_preparation(
        args, 'Kinetics-Sounds', classes, samples,
        'tools/data/prepare_kinetics_sounds.py',
        extra_params=dict(
            train_list=args.train_list and osp.basename(args.train_list),
            test_list=args.test_list and osp.basename(args.test_list),
            classes=args.classes and osp.basename(args.classes),
            val_fraction=args.val_fraction),
        extra_meta=dict(split_rule=(
            'lists; validation carved from train' if args.train_list else
            'Kinetics-400 train (validation carved) / val as test, or a '
            'seeded 80/10/10 split of one class-folder tree')))
    return 0


if __name__ == '__main__':
    sys.exit(main())

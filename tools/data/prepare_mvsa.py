"""Prepare MVSA-Single or MVSA-Multiple (image + tweet text, 3 sentiments).

Raw layout, as the MVSA archives unpack::

    RAW/labelResultAll.txt      # ID<TAB>text,image[<TAB>text,image x2]
    RAW/data/<id>.jpg           # the tweet's image
    RAW/data/<id>.txt           # the tweet's text (mixed encodings)

One annotator per pair means MVSA-Single, three MVSA-Multiple (read from the
label file). Each pair gets one label by the cleaning rule written in
``armlab/datasets/preparation/mvsa.py`` (docs/datasets.md): equal labels
stay, neutral gives way to the polar label, positive against negative is
dropped; MVSA-Multiple first takes a majority vote per modality. There is no
official split: test and validation are carved (class-stratified, seeded;
8 : 1 : 1 by default), validation from what is left for training.

What it writes::

    OUT/annotations/{train,val,test}.json   # paths: visual (image), text
    OUT/text/{train,val,test}/<id>.txt
    OUT/vocab.json                           # built from the train split only
    OUT/meta.json                            # counts of the cleaning rule
    OUT/failures.json                        # images that do not decode
    OUT/data -> RAW/data                     # a symlink when OUT != RAW

Images are checked in worker processes; one that does not decode, or a
missing image or text, is listed in failures.json and its pair skipped.

Example:
    python tools/data/prepare_mvsa.py --raw data/MVSA_Single \
        --out data/mvsa_single
"""
import argparse
import os
import os.path as osp
import sys
from collections import Counter

from armlab.datasets.preparation import (check_disjoint, stratified_split,
                                         write_annotations)
from armlab.datasets.preparation.links import link_raw_folder
from armlab.datasets.preparation.mvsa import (LABELS, RULES, clean_label,
                                              decode_text, read_label_file)
from armlab.datasets.preparation.parallel import (Job, run_jobs,
                                                  write_failures)
from armlab.datasets.text import build_vocab_file, text_path, write_texts

TOOL = 'tools/data/prepare_mvsa.py'
VERSION = 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--raw', required=True,
                        help='the unpacked MVSA folder (labelResultAll.txt, '
                        'data/)')
    parser.add_argument('--out', required=True,
                        help='output folder (the dataset data_root)')
    parser.add_argument('--rule', choices=RULES, default=RULES[0],
                        help='MVSA-Multiple: vote per modality, then merge '
                        '(default), or merge per annotator, then vote')
    parser.add_argument('--test-fraction', type=float, default=0.1)
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='of all kept pairs, carved from the training '
                        'part')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument('--min-freq', type=int, default=2,
                        help='vocabulary: minimum count in train')
    parser.add_argument('--max-vocab', type=int, default=30000,
                        help="vocabulary: maximum size (the config's "
                        'TextEncoder vocab_size must be at least this)')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def check_image(path: str) -> str:
    """Decode the image fully (a truncated JPEG fails here, not in
    training); returns its size as ``WxH``."""
    from PIL import Image
    with Image.open(path) as image:
        image.load()
        return f'{image.width}x{image.height}'


def main() -> None:
    args = parse_args()
    label_file = osp.join(args.raw, 'labelResultAll.txt')
    if not osp.isfile(label_file) or not osp.isdir(osp.join(args.raw,
                                                            'data')):
        sys.exit(f'prepare_mvsa: {args.raw!r} needs labelResultAll.txt and '
                 'data/ (the unpacked MVSA-Single or MVSA-Multiple folder)')
    annotations = read_label_file(label_file)
    annotators = len(next(iter(annotations.values())))
    variant = 'MVSA-Single' if annotators == 1 else 'MVSA-Multiple'
    kept, dropped = {}, Counter()
    for sample_id, pairs in annotations.items():
        label = clean_label(pairs, args.rule)
        if label is None:
            dropped['inconsistent or no majority'] += 1
        else:
            kept[sample_id] = label

    failures = []
    texts = {}
    for sample_id in list(kept):
        path = osp.join(args.raw, 'data', f'{sample_id}.txt')
        text = None
        if osp.isfile(path):
            with open(path, 'rb') as f:
                text = decode_text(f.read())
        if not text:
            failures.append(dict(stage='text', key=sample_id, source=path,
                                 error='missing or empty text file'))
            del kept[sample_id]
        else:
            texts[sample_id] = text
    jobs = [Job(key=sample_id, outputs=(), source=osp.join(
        args.raw, 'data', f'{sample_id}.jpg'), args=(osp.join(
            args.raw, 'data', f'{sample_id}.jpg'), ))
        for sample_id in sorted(kept)]
    report = run_jobs(check_image, jobs, stage='images',
                      workers=args.workers, progress=not args.no_progress,
                      skip_existing=False)
    report.failures = failures + report.failures
    for sample_id in report.failed_keys:
        kept.pop(sample_id, None)
    os.makedirs(args.out, exist_ok=True)
    write_failures(osp.join(args.out, 'failures.json'), [report])
    if not kept:
        sys.exit('prepare_mvsa: no usable pair left (see failures.json)')

    ids = sorted(kept, key=lambda i: (len(i), i))
    labels = [kept[i] for i in ids]
    train_fraction = 1 - args.test_fraction - args.val_fraction
    parts = stratified_split(labels, dict(train=train_fraction,
                                          val=args.val_fraction,
                                          test=args.test_fraction),
                             seed=args.seed)
    splits = {name: [ids[i] for i in idx] for name, idx in parts.items()}
    check_disjoint(splits)

    link_raw_folder(args.raw, args.out, 'data')
    vocab = build_vocab_file((texts[i] for i in splits['train']),
                             osp.join(args.out, 'vocab.json'),
                             min_freq=args.min_freq, max_size=args.max_vocab)
    extra_meta = dict(
        tool=TOOL, version=VERSION, variant=variant,
        params=dict(rule=args.rule, seed=args.seed,
                    test_fraction=args.test_fraction,
                    val_fraction=args.val_fraction, min_freq=args.min_freq,
                    max_vocab=args.max_vocab),
        cleaning=dict(annotated=len(annotations), annotators=annotators,
                      dropped=dict(dropped),
                      failed=len(report.failures),
                      kept=sum(len(v) for v in splits.values())),
        vocab=dict(file='vocab.json', size=len(vocab), built_from='train'))
    for split, members in splits.items():
        write_texts(args.out, split, ((i, texts[i]) for i in members),
                    progress=not args.no_progress)
        entries = [dict(sample_id=i, gt_label=kept[i],
                        paths=dict(visual=f'data/{i}.jpg',
                                   text=text_path(split, i)))
                   for i in members]
        write_annotations(args.out, split, entries, LABELS,
                          ('visual', 'text'), variant, extra_meta)
        counts = Counter(kept[i] for i in members)
        print(f'{split}: {len(members)} pairs '
              f'({", ".join(f"{k} {counts[k]}" for k in LABELS)})')
    print(f'{variant}: {len(annotations)} annotated pairs, '
          f'{sum(dropped.values())} dropped by the cleaning rule, '
          f'{len(report.failures)} unusable (failures.json); wrote '
          f'{args.out}')


if __name__ == '__main__':
    main()

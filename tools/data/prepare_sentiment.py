"""Prepare CMU-MOSI or CMU-MOSEI (audio + visual + text sentiment) from the
feature pickle researchers already have.

Raw input, either layout (docs/datasets.md, "CMU-MOSI and CMU-MOSEI"):

* MMSA: ``CMU-MOSI/Processed/aligned_50.pkl`` or ``unaligned_50.pkl`` (and
  the same for CMU-MOSEI): BERT text states and ids, COVAREP audio, Facet
  vision, regression and classification labels;
* MulT: ``mosi_data.pkl`` / ``mosi_data_noalign.pkl`` (``mosei_senti_*``):
  GloVe text, COVAREP audio, Facet vision, scores.

The pickle's train / valid / test splits are kept as they are (the valid
split is the benchmark's validation set, drawn from training videos); model
selection reads ``val`` only. Only load pickles you trust: unpickling runs
code.

What it writes (docs/design.md layout)::

    OUT/annotations/{train,val,test}.json   # paths: audio, visual, text
    OUT/audio/<split>/<id>.npy              # float32 (T_a, d_a), zero padded
    OUT/visual/<split>/<id>.npy             # float32 (T_v, d_v)
    OUT/text/<split>/<id>.npy               # float32 (T_t, 768 or 300)
    OUT/text_ids/<split>/<id>.npy           # int64 (3, L): ids, mask, segment
                                            # (MMSA only)
    OUT/meta.json

Each annotation entry holds ``gt_label`` (the 3-class task by default:
negative / neutral / positive from the sign of the score; ``--num-classes 7``
for round(clip(y, -3, 3)) + 3) and, for every task and metric,
``regression_label`` (the score y), ``label3``, ``label7``, the valid
``lengths`` per modality, ``video`` and ``raw_text``.

Example:
    python tools/data/prepare_sentiment.py --dataset mosi \\
        --pickle data/raw/CMU-MOSI/Processed/aligned_50.pkl \\
        --out data/mosi/aligned
"""
import argparse
import os
import os.path as osp
from collections import Counter

import numpy as np
from tqdm import tqdm

from armlab.datasets.preparation import check_disjoint, write_annotations
from armlab.datasets.preparation.feature_files import save_npy
from armlab.datasets.preparation.sentiment_pickles import (
    read_sentiment_pickle, seven_class_labels, sentiment_classes,
    three_class_labels)

TOOL = 'tools/data/prepare_sentiment.py'
VERSION = 1
MODALITIES = ('audio', 'visual', 'text')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', required=True, choices=('mosi',
                                                             'mosei'))
    parser.add_argument('--pickle', required=True,
                        help='an MMSA or MulT feature pickle')
    parser.add_argument('--out', required=True,
                        help='output folder (the dataset data_root)')
    parser.add_argument('--num-classes', type=int, choices=(3, 7),
                        default=3, help='classification task of gt_label')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    layout, aligned, splits = read_sentiment_pickle(args.pickle,
                                                    args.dataset)
    check_disjoint({name: s.ids for name, s in splits.items()})
    classes = sentiment_classes(args.num_classes)
    train = splits['train']
    extra_meta = dict(
        tool=TOOL, version=VERSION,
        params=dict(dataset=args.dataset, num_classes=args.num_classes,
                    source=osp.basename(args.pickle)),
        layout=layout, aligned=aligned,
        feature_dims={m: int(x.shape[-1]) for m, x in train.features.items()},
        time_steps={m: int(x.shape[1]) for m, x in train.features.items()},
        replaced_non_finite={name: s.replaced_non_finite
                             for name, s in splits.items()})
    has_ids = train.token_ids is not None
    folders = list(MODALITIES) + (['text_ids'] if has_ids else [])
    for name, split in splits.items():
        label3 = three_class_labels(split.scores)
        label7 = seven_class_labels(split.scores)
        labels = label3 if args.num_classes == 3 else label7
        for folder in folders:
            os.makedirs(osp.join(args.out, folder, name), exist_ok=True)
        entries = []
        for i in tqdm(range(len(split.ids)), desc=f'features {name}',
                      disable=args.no_progress, leave=False):
            sid = split.ids[i]
            paths = {m: f'{m}/{name}/{sid}.npy' for m in folders}
            for m in MODALITIES:
                save_npy(osp.join(args.out, paths[m]), split.features[m][i])
            if has_ids:
                save_npy(osp.join(args.out, paths['text_ids']),
                         split.token_ids[i])
            entries.append(dict(
                sample_id=sid, gt_label=int(labels[i]), paths=paths,
                regression_label=float(split.scores[i]),
                label3=int(label3[i]), label7=int(label7[i]),
                lengths={m: int(v[i]) for m, v in split.lengths.items()},
                video=split.videos[i],
                raw_text=split.raw_text[i] if split.raw_text else None,
                official_split=name))
        write_annotations(args.out, name, entries, classes, MODALITIES,
                          f'CMU-{args.dataset.upper()}', extra_meta)
        counts = Counter(int(v) for v in labels)
        print(f'{name}: {len(entries)} utterances from '
              f'{len({e["video"] for e in entries})} videos; '
              + ', '.join(f'{c} {counts[k]}' for k, c in enumerate(classes)))
    print(f'{layout} layout, {"aligned" if aligned else "unaligned"}; '
          f'feature dims {extra_meta["feature_dims"]}, time steps '
          f'{extra_meta["time_steps"]}; wrote {args.out}')


if __name__ == '__main__':
    main()

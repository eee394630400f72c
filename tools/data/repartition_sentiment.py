"""Out-of-distribution splits of a prepared CMU-MOSI / MOSEI folder.

A seeded, documented CLUE-style repartition (the rule:
``armlab/datasets/preparation/sentiment_ood.py``, docs/datasets.md): the test
set is the subset of the pool in which frequent words occur about equally
often in negative and positive utterances, found by simulated annealing; the
features are not copied, new annotation files point at the folder's own.
This is **not** CIDer's split (CIDer's files prepare with
``prepare_sentiment.py`` as they are).

What it writes, under the prepared folder ROOT::

    ROOT/annotations/<name>/{train,val,test}.json
    ROOT/annotations/<name>/repartition.json   # rule, seed, sizes, F

Train on it with, e.g. ``--cfg-options
train_dataloader.dataset.ann_file=annotations/<name>/train.json
val_dataloader.dataset.ann_file=annotations/<name>/val.json
test_dataloader.dataset.ann_file=annotations/<name>/test.json``, or on the
official splits and test on the OOD one (the test loader only).

Example:
    python tools/data/repartition_sentiment.py --root data/mosi/aligned \\
        --pool test --seed 0
"""
import argparse
import json
import os.path as osp

from armlab.datasets.preparation import check_disjoint
from armlab.datasets.preparation.annotations import write_json_atomic
from armlab.datasets.preparation.sentiment_ood import SPLITS, repartition


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', required=True,
                        help='a folder written by prepare_sentiment.py')
    parser.add_argument('--pool', choices=('test', 'all'), default='test',
                        help="'test': choose the OOD test inside the official "
                        "test split (CLUE); 'all': pool every split, test of "
                        'the official size, train / val re-dealt')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--test-fraction', type=float, default=0.5,
                        help="size of the OOD test over the official test's "
                        "(--pool test)")
    parser.add_argument('--min-count', type=int, default=50,
                        help='words occurring more often than this form V')
    parser.add_argument('--mode', choices=('np', 'nn'), default='np',
                        help="'np': negative against positive utterances; "
                        "'nn': negative against the rest")
    parser.add_argument('--steps', type=int, default=20000,
                        help='annealing moves')
    parser.add_argument('--name', default=None,
                        help='output folder under ROOT/annotations '
                        '(default ood_<pool>_s<seed>)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing repartition of that name')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    name = args.name or f'ood_{args.pool}_s{args.seed}'
    out = osp.join(args.root, 'annotations', name)
    if osp.exists(osp.join(out, 'repartition.json')) and not args.overwrite:
        raise SystemExit(f'{out} already holds a repartition; pass '
                         '--overwrite to replace it, or --name')
    splits, metainfo = {}, None
    for split in SPLITS:
        path = osp.join(args.root, 'annotations', f'{split}.json')
        if not osp.isfile(path):
            raise SystemExit(f'{path} not found: prepare the folder with '
                             'tools/data/prepare_sentiment.py first')
        with open(path, encoding='utf-8') as f:
            ann = json.load(f)
        splits[split] = ann['data_list']
        metainfo = metainfo or ann['metainfo']
    result = repartition(splits, pool=args.pool, seed=args.seed,
                         test_fraction=args.test_fraction,
                         min_count=args.min_count, mode=args.mode,
                         steps=args.steps)
    new = result['splits']
    check_disjoint({s: [e['sample_id'] for e in v] for s, v in new.items()})
    for split, entries in new.items():
        write_json_atomic(osp.join(out, f'{split}.json'),
                          dict(metainfo=metainfo, data_list=entries))
    info = dict(result['info'], tool='tools/data/repartition_sentiment.py',
                source=osp.abspath(args.root))
    write_json_atomic(osp.join(out, 'repartition.json'), info)
    print(f"{name}: train {info['sizes']['train']}, val "
          f"{info['sizes']['val']}, test {info['sizes']['test']}; F over "
          f"{len(info['vocabulary'])} words {info['objective_random_start']:.2f}"
          f" (random test set) -> {info['objective']:.2f}; written to {out}")


if __name__ == '__main__':
    main()

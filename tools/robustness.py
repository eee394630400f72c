"""Robustness sweep of a checkpoint: missing modalities or corruptions.

Usage::

    # missing-modality protocols (RMM, RMFM, TMFM, STMFM) over rates
    python tools/robustness.py CONFIG CHECKPOINT --protocol RMM --rates 0:1:0.1
    # every non-empty subset of modalities
    python tools/robustness.py CONFIG CHECKPOINT --protocol SMM
    # a corruption of one modality over levels
    python tools/robustness.py CONFIG CHECKPOINT --corruption awgn \
        --modality audio --levels 0:1:0.1 --reference work_dirs/robustness/joint/audio-awgn

It writes robustness.csv / .json / .md / .png into ``--work-dir`` (default
``work_dirs/robustness/<config stem>/<sweep>``): the metric at every point,
AUILC (missing protocols) or relative robustness RR (corruptions), and, with
``--reference`` (the joint baseline's sweep: its work dir or JSON), effective
robustness ER. See docs/robustness.md.
"""
import argparse
import os.path as osp
import shlex
import sys

from mmengine.config import Config, DictAction

from armlab.engine.launch import merge_cli_options
from armlab.utils import limit_blas_threads, register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Robustness sweep of an armlab checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--protocol',
                      choices=['RMM', 'RMFM', 'TMFM', 'STMFM', 'SMM'],
                      help='missing-modality protocol')
    what.add_argument('--corruption', help='corruption name (awgn, gaussian, '
                      'blur, jpeg, ...; see docs/robustness.md)')
    parser.add_argument('--rates', '--levels', dest='levels',
                        default='0:1:0.1',
                        help='rates / levels: start:stop:step (stop '
                        'included) or a comma list (default 0:1:0.1)')
    parser.add_argument('--modality',
                        help='the corrupted modality; with RMFM: drop units '
                        'of this modality only')
    parser.add_argument('--fill', nargs='+', metavar='[MODALITY=]FILL',
                        help='fill rule: model (default for RMM/SMM: the '
                        'fusion fill), learned, zero (default otherwise), '
                        'mean, silence, token:<id>; one for all or per '
                        'modality (audio=silence visual=zero)')
    parser.add_argument('--seed', type=int, default=1111,
                        help='mask / corruption seed (default 1111, CIDer)')
    parser.add_argument('--min-present', type=int, default=0,
                        help='RMM: keep at least this many modalities')
    parser.add_argument('--inform-model', action='store_true',
                        help='pass the missing masks to the model')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--reference', help='work dir or robustness.json of '
                        'the reference (joint baseline) sweep, for ER')
    parser.add_argument('--label', help='name of this model in the tables '
                        '(default: config stem)')
    parser.add_argument('--max-samples', type=int,
                        help='evaluate the first N samples only')
    parser.add_argument('--work-dir', help='output folder (default: '
                        'work_dirs/robustness/<config stem>/<sweep>)')
    parser.add_argument('--device', help='cpu or cuda (default: cuda if '
                        'available)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys; a key the config lacks is an error')
    return parser.parse_args(argv)


def parse_fill(items):
    """``['zero']`` -> 'zero'; ``['audio=silence', 'visual=zero']`` -> dict."""
    if not items:
        return None
    if len(items) == 1 and '=' not in items[0]:
        return items[0]
    fills = {}
    for item in items:
        if '=' not in item:
            raise ValueError(f'--fill {items}: give one fill, or '
                             f'MODALITY=FILL for each ({item!r})')
        modality, fill = item.split('=', 1)
        fills[modality] = fill
    return fills


def build_spec(args):
    from armlab.robustness.sweep import SweepSpec, parse_levels
    levels = parse_levels(args.levels)
    if args.corruption:
        if args.fill or args.min_present or args.inform_model:
            raise ValueError('--fill, --min-present and --inform-model apply '
                             'to missing-modality protocols, not to '
                             f'--corruption {args.corruption}')
        return SweepSpec(kind='corruption', protocol=args.corruption,
                         levels=levels, modality=args.modality,
                         seed=args.seed)
    return SweepSpec(kind='subsets' if args.protocol == 'SMM' else 'missing',
                     protocol=args.protocol, levels=levels,
                     modality=args.modality, fill=parse_fill(args.fill),
                     seed=args.seed, min_present=args.min_present,
                     inform_model=args.inform_model)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    from armlab.robustness.report import load_result, write_sweep
    from armlab.robustness.sweep import load_model, run_sweep
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    merge_cli_options(cfg, args.cfg_options)
    spec = build_spec(args)
    stem = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'robustness', stem,
                                         spec.name)
    reference = load_result(args.reference) if args.reference else None
    model = load_model(cfg, args.checkpoint, args.device)
    result = run_sweep(model, cfg, spec, split=args.split, work_dir=work_dir,
                       max_samples=args.max_samples)
    result.update(label=args.label or stem, config=args.config,
                  checkpoint=args.checkpoint)
    command = ' '.join(shlex.quote(a) for a in
                       ['python', 'tools/robustness.py'] +
                       (sys.argv[1:] if argv is None else list(argv)))
    paths = write_sweep(result, work_dir, reference, command)
    print(f'{spec.name}: wrote ' + ', '.join(paths))
    with open(paths[2], encoding='utf-8') as f:
        print(f.read())


if __name__ == '__main__':
    main()

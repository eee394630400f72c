"""Choose CIDer's counterfactual tau on validation, then test with it.

CIDer's score is s = log P - tau log P_cf (configs/cider/README.md). The
released code reports each metric at its best tau on the evaluated split;
armlab chooses one tau on the validation split (the top-1 of s, ties to
the smaller tau) and evaluates the test split at that tau with the
config's test evaluator, so test never picks tau.

Usage::

    python tools/analysis/counterfactual_tau.py \\
        configs/cider/cider-cf_sequence_mosi.py work_dirs/.../best.pth \\
        [--taus 0 0.5 1] [--out tau.json] [--cfg-options ...]

The default grid is CIDer's, 0 to 3 in steps of 0.1. Writes the validation
top-1 of every tau, the chosen tau and the test metrics to ``--out``
(default: ``<work-dir>/counterfactual_tau.json``).
"""
import argparse
import json
import os.path as osp
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

from armlab.balancers.base import unwrap_model
from armlab.engine.checkpoint_eval import eval_config
from armlab.utils import limit_blas_threads, register_all_modules

CIDER_TAUS = [round(0.1 * i, 1) for i in range(31)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--taus', nargs='+', type=float, default=CIDER_TAUS)
    parser.add_argument('--work-dir', help='logs (default: the config\'s)')
    parser.add_argument('--out', help='JSON summary')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


@torch.no_grad()
def validation_top1(runner: Runner, cfg, taus: List[float]
                    ) -> Dict[float, float]:
    """Top-1 (%) of s = log P - tau log P_cf on the loader of ``cfg``'s
    test split (the validation split, by eval_config) for every tau."""
    model = unwrap_model(runner.model).eval()
    if not getattr(model, 'counterfactual', None):
        raise TypeError(f'{type(model).__name__} has no counterfactual text '
                        '(CIDerClassifier(counterfactual=...))')
    loader = runner.build_dataloader(cfg.test_dataloader)
    log_p, log_cf, labels = [], [], []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        _, p, cf = model.factual_and_counterfactual(data['inputs'],
                                                    data['data_samples'])
        log_p.append(p.cpu())
        log_cf.append(cf.cpu())
        labels.append(torch.cat([ds.gt_label for ds in data['data_samples']]
                                ).cpu())
    p, cf, y = torch.cat(log_p), torch.cat(log_cf), torch.cat(labels)
    return {tau: float(((p - tau * cf).argmax(1) == y).float().mean()) * 100
            for tau in taus}


def choose(top1: Dict[float, float]) -> float:
    """The tau of the best validation top-1; ties go to the smaller tau."""
    best = max(top1.values())
    return min(t for t, acc in top1.items() if acc == best)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    limit_blas_threads()
    options = dict(args.cfg_options or {})
    cfg = eval_config(args.config, args.checkpoint, args.work_dir, 'val',
                      options)
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(args.checkpoint, map_location='cpu')
    top1 = validation_top1(runner, cfg, args.taus)
    tau = choose(top1)
    print('validation top-1 per tau: ' + ', '.join(
        f'{t:g}: {a:.2f}' for t, a in top1.items()) + f'; chosen tau {tau:g}')
    options['model.counterfactual.tau'] = tau
    test_cfg = eval_config(args.config, args.checkpoint, args.work_dir,
                           'test', options)
    metrics = Runner.from_cfg(test_cfg).test()
    print(f'test metrics at tau {tau:g}: {metrics}')
    out = args.out or osp.join(test_cfg.work_dir, 'counterfactual_tau.json')
    summary = dict(config=args.config, checkpoint=args.checkpoint,
                   chosen_on='val top-1', tau=tau,
                   val_top1={f'{t:g}': a for t, a in top1.items()},
                   test={k: float(np.asarray(v)) for k, v in metrics.items()
                         if np.asarray(v).size == 1})
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=1)
    print(f'wrote {out}')
    return summary


if __name__ == '__main__':
    main()

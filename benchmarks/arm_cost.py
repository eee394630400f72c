"""ARM's cost: epoch time over joint training's, and valuation throughput.

1. Epoch time, measured side by side in one process: the same model, the same
   in-memory batches and the same optimiser, trained one epoch with the
   joint-training balancer and one with ARM (feature weights + min-max loss
   every step, plus the hook's per-epoch valuation pass over ``--subset`` of
   the training set). The two alternate ``--repeats`` times; the ratio of the
   medians is reported (target <= 1.15). Scope: model compute only. The data
   pipeline is excluded; on AV-Digits it costs about as much per sample as
   the model, and the hook's pass loads its subset through it, so end-to-end
   runs (tools/analysis/compare_methods.py reports wall time per epoch) show
   a larger ratio than this one.
2. Valuation throughput: armlab's vectorised valuation (masked heads on cached
   features, pointwise Shapley, plug-in MI/CMI through bincount) against a
   naive per-sample Python/numpy implementation of the same quantities
   (target >= 100x). Both are checked to agree.

Usage: ``python benchmarks/arm_cost.py [--samples 1024] [--width 16]``;
results are printed and written to ``benchmarks/results/arm_cost.json``.
"""
import argparse
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from armlab.evaluation.valuation import (modality_information,  # noqa: E402
                                         pointwise_contributions)
from armlab.models import MultimodalClassifier  # noqa: E402
from armlab.utils import register_all_modules  # noqa: E402

K = 10


def build_model(width: int, balancer: dict) -> MultimodalClassifier:
    torch.manual_seed(0)
    return MultimodalClassifier(
        encoders=dict(
            audio=dict(type='SpectrogramResNet', base_channels=width),
            visual=dict(type='FrameResNet', base_channels=width)),
        fusion=dict(type='ConcatFusion'), num_classes=K, balancer=balancer,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))


def make_batches(n: int, batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    batches = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        labels = torch.randint(0, K, (b, ), generator=g)
        inputs = dict(audio=torch.randn(b, 1, 64, 51, generator=g),
                      visual=torch.randn(b, 3, 1, 32, 32, generator=g))
        inputs['audio'][:, 0, :K, 0] += 3 * torch.nn.functional.one_hot(
            labels, K)
        samples = [DataSample().set_gt_label(int(y)) for y in labels]
        batches.append(dict(inputs=inputs, data_samples=samples))
    return batches


def train_epoch(model, batches, optim) -> float:
    model.train()
    start = time.perf_counter()
    for data in batches:
        model.train_step(data, optim)
    return time.perf_counter() - start


@torch.no_grad()
def valuation_pass(model, batches, subset: float) -> float:
    """The ARMHook's epoch work: eval features, contributions, MI/CMI."""
    start = time.perf_counter()
    model.eval()
    n_keep = max(1, int(round(subset * len(batches))))
    preds, labels = [], []
    for data in batches[:n_keep]:
        feats = model.extract_feat(data['inputs'])
        y = torch.cat([ds.gt_label for ds in data['data_samples']])
        p = pointwise_contributions(model, feats, y)['predictions']
        preds.append(torch.stack([p[('audio', )], p[('visual', )]], 1))
        labels.append(y)
    preds, labels = torch.cat(preds), torch.cat(labels)
    modality_information({'audio': preds[:, 0], 'visual': preds[:, 1]},
                         labels, ('audio', 'visual'), num_classes=K,
                         warn=False)
    model.train()
    return time.perf_counter() - start


def epoch_ratio(args) -> dict:
    batches = make_batches(args.samples, args.batch)
    joint = build_model(args.width, dict(type='Balancer'))
    arm = build_model(args.width, dict(
        type='ARMBalancer', feature_weights=dict(start_epoch=0),
        minmax_loss=dict(start_epoch=0)))
    arm.balancer.set_warmup(warmup_epochs=0)
    MessageHub.get_current_instance().update_info('epoch', 1)
    optims = {
        name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.01,
                                           momentum=0.9))
        for name, m in (('joint', joint), ('arm', arm))
    }
    train_epoch(joint, batches[:2], optims['joint'])  # warm-up
    train_epoch(arm, batches[:2], optims['arm'])
    times = {'joint': [], 'arm_step': [], 'arm_valuation': []}
    for _ in range(args.repeats):
        times['joint'].append(train_epoch(joint, batches, optims['joint']))
        times['arm_step'].append(train_epoch(arm, batches, optims['arm']))
        times['arm_valuation'].append(
            valuation_pass(arm, batches, args.subset))
    med = {k: float(np.median(v)) for k, v in times.items()}
    arm_epoch = med['arm_step'] + med['arm_valuation']
    return dict(joint_epoch_s=med['joint'], arm_step_epoch_s=med['arm_step'],
                arm_valuation_s=med['arm_valuation'],
                arm_epoch_s=arm_epoch,
                ratio_arm_over_joint=arm_epoch / med['joint'],
                ratio_steps_only=med['arm_step'] / med['joint'],
                valuation_subset=args.subset, target_ratio=1.15,
                scope='model compute on in-memory batches; data loading '
                'excluded')


# -- naive reference -----------------------------------------------------------
def naive_valuation(feats: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                    labels: np.ndarray, dims):
    """Per-sample Python/numpy: masked concat heads, Shapley, MI/CMI."""
    def log_softmax(z):
        z = z - z.max()
        return z - math.log(np.exp(z).sum())

    def entropy(counts, n):
        return -sum(c / n * math.log(c / n) for c in counts.values())

    da = dims[0]
    phi, pa, pv = [], [], []
    for x, y in zip(feats, labels):
        xa = np.concatenate([x[:da], np.zeros_like(x[da:])])
        xv = np.concatenate([np.zeros_like(x[:da]), x[da:]])
        l_full = log_softmax(weight @ x + bias)[y]
        za, zv = weight @ xa + bias, weight @ xv + bias
        l_a, l_v = log_softmax(za)[y], log_softmax(zv)[y]
        l_0 = log_softmax(bias)[y]
        phi.append((0.5 * ((l_a - l_0) + (l_full - l_v)),
                    0.5 * ((l_v - l_0) + (l_full - l_a))))
        pa.append(int(np.argmax(za)))
        pv.append(int(np.argmax(zv)))
    n = len(labels)
    y = [int(v) for v in labels]
    h = {k: entropy(Counter(v), n) for k, v in (
        ('y', y), ('a', pa), ('v', pv), ('ya', list(zip(y, pa))),
        ('yv', list(zip(y, pv))), ('av', list(zip(pa, pv))),
        ('yav', list(zip(y, pa, pv))))}
    mi_a = h['y'] + h['a'] - h['ya']
    cmi_a = h['yv'] + h['av'] - h['yav'] - h['v']
    return np.array(phi), mi_a, cmi_a


def valuation_throughput(args) -> dict:
    model = build_model(args.width, dict(type='Balancer')).eval()
    n = args.valuation_samples
    d = model.fusion.in_channels
    g = torch.Generator().manual_seed(1)
    feats = {m: torch.randn(n, c, generator=g) for m, c in d.items()}
    labels = torch.randint(0, K, (n, ), generator=g)

    def vectorised():
        values = pointwise_contributions(model, feats, labels)
        phi, p = values['shapley'], values['predictions']
        info = modality_information(
            {'audio': p[('audio', )], 'visual': p[('visual', )]}, labels,
            ('audio', 'visual'), num_classes=K, warn=False)
        return phi, info

    start = time.perf_counter()
    for _ in range(args.repeats):
        phi, info = vectorised()
    fast = (time.perf_counter() - start) / args.repeats
    flat = torch.cat([feats['audio'], feats['visual']], 1).numpy()
    weight = model.fusion.fc.weight.detach().numpy()
    bias = model.fusion.fc.bias.detach().numpy()
    start = time.perf_counter()
    ref_phi, mi_a, cmi_a = naive_valuation(flat, weight, bias,
                                           labels.numpy(), list(d.values()))
    slow = time.perf_counter() - start
    ours = torch.stack([phi['audio'], phi['visual']], 1).numpy()
    agree = bool(np.allclose(ours, ref_phi, atol=1e-4)
                 and abs(info['mi']['audio'] - mi_a) < 1e-6
                 and abs(info['cmi']['audio'] - cmi_a) < 1e-6)
    return dict(samples=n, vectorised_samples_per_s=n / fast,
                naive_samples_per_s=n / slow, speedup=slow / fast,
                agree=agree, target_speedup=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=1024)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--width', type=int, default=16)
    parser.add_argument('--subset', type=float, default=0.25,
                        help='fraction of the train set the hook values per '
                        'epoch (0.25 in configs/arm)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--valuation-samples', type=int, default=20000)
    parser.add_argument('--out',
                        default=str(REPO / 'benchmarks' / 'results' /
                                    'arm_cost.json'))
    args = parser.parse_args()
    register_all_modules()
    result = dict(
        machine=f'{platform.machine()}, {os.cpu_count()} CPU cores, '
        f'{torch.get_num_threads()} torch threads',
        torch=torch.__version__,
        args=vars(args),
        epoch=epoch_ratio(args),
        valuation=valuation_throughput(args))
    print(json.dumps(result, indent=1))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()

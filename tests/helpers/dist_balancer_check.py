"""Run a few distributed training steps of every balancer and record whether
the ranks stay identical.

Launched by ``tests/engine/test_distributed.py`` with ``torch.distributed.run`` and
two gloo processes. Each rank feeds a *different* synthetic batch, as data
parallelism does, so a balancer that derives a coefficient, a weight or a
step choice from its local batch without reducing it over the ranks makes
the replicas drift apart: their parameters then differ after the steps.

Usage: ``python -m torch.distributed.run --nproc_per_node 2
dist_balancer_check.py OUT.json CONFIG [CONFIG ...]``
"""
import json
import os
import sys

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from armlab.models.wrappers.distributed import \
    MultimodalDistributedDataParallel
from armlab.registry import MODELS
from armlab.utils import register_all_modules

STEPS = 3
BATCH = 6
NUM_CLASSES = 10


def synthetic_batch(rank: int, step: int) -> dict:
    """A rank- and step-specific batch shaped like AV-Digits' (32x32 frame,
    64-bin spectrogram), with labels correlated to the inputs."""
    gen = torch.Generator().manual_seed(1000 * rank + step)
    labels = torch.randint(0, NUM_CLASSES, (BATCH, ), generator=gen)
    audio = torch.randn(BATCH, 1, 64, 51, generator=gen)
    audio[:, :, :NUM_CLASSES, :] += 3 * torch.nn.functional.one_hot(
        labels, NUM_CLASSES).float()[:, None, :, None]
    visual = torch.randint(0, 255, (BATCH, 3, 1, 32, 32), generator=gen,
                           dtype=torch.uint8)
    samples = []
    for i, y in enumerate(labels.tolist()):
        ds = DataSample().set_gt_label(y)
        ds.set_metainfo(dict(sample_idx=BATCH * step + i,
                             modality_mask=torch.ones(2, dtype=torch.bool)))
        samples.append(ds)
    return dict(inputs=dict(audio=list(audio), visual=list(visual)),
                data_samples=samples)


#: Buffers that may differ between ranks: running statistics of the local
#: batches (BN's, and MMTM's running excitations for Greedy), as the wrapper
#: does not broadcast buffers during training; rank 0's are checkpointed.
PER_RANK_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked',
                    'running_excitation_audio', 'running_excitation_visual')


def shared_state(model: torch.nn.Module) -> dict:
    """Parameters and the buffers that every rank must agree on (feature
    weights, balancer state such as ARM's contributions or AGM's means)."""
    state = dict(model.named_parameters())
    state.update((name, b) for name, b in model.named_buffers()
                 if not name.endswith(PER_RANK_BUFFERS))
    return {k: v.detach().float().reshape(-1) for k, v in state.items()}


def drift_over_ranks(state: dict) -> dict:
    """Max abs difference to rank 0, per state entry that differs."""
    drift = {}
    for name, value in state.items():
        if value.numel() == 0:  # a lazy buffer not used yet
            continue
        gathered = [torch.empty_like(value)
                    for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, value)
        d = max(float((g - gathered[0]).abs().max()) for g in gathered)
        if d > 0:
            drift[name] = d
    return drift


def stand_in_for_hooks(model: torch.nn.Module) -> None:
    """Set what the balancers' epoch-level hooks set before training; the
    hooks themselves need a Runner and are tested elsewhere. The values are
    the same on every rank, as the hooks make them (they gather first)."""
    balancer = model.balancer
    if hasattr(balancer, 'set_warmup'):  # ARM, past its warm-up (epoch 1)
        balancer.set_warmup(warmup_epochs=1)
        # Valued contributions as ARMHook leaves them, so that each step's
        # batch contributions move the feature weights.
        balancer.contributions = torch.tensor([1.0, 0.8])
    if hasattr(balancer, 'epoch_length'):  # MLA
        balancer.epoch_length = 10
    if hasattr(balancer, 'update_prototypes'):  # PMR
        gen = torch.Generator().manual_seed(0)
        balancer.update_prototypes(
            {m: torch.randn(NUM_CLASSES, c, generator=gen)
             for m, c in model.fusion.in_channels.items()},
            torch.ones(NUM_CLASSES))


def check(config: str, rank: int) -> dict:
    cfg = Config.fromfile(config)
    for m in cfg.model.encoders:
        cfg.model.encoders[m].base_channels = 4
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    stand_in_for_hooks(model)
    ddp = MultimodalDistributedDataParallel(module=model, device_ids=None, broadcast_buffers=False,
                      find_unused_parameters=cfg.get(
                          'find_unused_parameters', False))
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 1)
    logs = {}
    model.train()
    for step in range(STEPS):
        hub.update_info('iter', step)
        log_vars = ddp.train_step(synthetic_batch(rank, step), optim)
        logs = {k: float(v.detach()) for k, v in log_vars.items()}
    drift = drift_over_ranks(shared_state(model))
    return dict(drift=max(drift.values(), default=0.0), drifting=drift,
                logs=logs)


def main() -> None:
    out, configs = sys.argv[1], sys.argv[2:]
    dist.init_process_group(backend='gloo')
    register_all_modules()
    rank = dist.get_rank()
    results = {}
    for config in configs:
        try:
            results[config] = check(config, rank)
        except Exception as err:  # recorded, so one failure names its config
            results[config] = dict(error=f'{type(err).__name__}: {err}')
        dist.barrier()
    if rank == 0:
        with open(out, 'w') as f:
            json.dump(results, f, indent=1)
    dist.destroy_process_group()


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()

"""Shared set-up of the command-line tools: config merging and distribution.

mmengine's own ``init_dist`` calls ``torch.cuda.set_device`` and its default
DDP wrapper passes ``device_ids=[rank]``; both fail on CPU. Distributed runs
on CPU therefore start the gloo process group here, before the Runner is
built (the Runner then skips ``init_dist``), and use armlab's DDP wrapper with
``device_ids=None``. The wrapper also keeps the balancer in charge of the
training step under DDP. The process group is destroyed at exit: left to the
interpreter's finalisation, gloo's worker threads can outlive it and abort
the process (SIGABRT, "terminate called without an active exception") after
a run that succeeded.
"""
import atexit
import gc
import os

import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` for ``launcher`` ('none', 'pytorch', 'slurm', 'mpi')."""
    cfg.launcher = launcher
    if launcher == 'none':
        return
    atexit.register(close_distributed)
    # The scope prefix is needed: mmengine looks the wrapper type up in its
    # root registry, which does not search child scopes by default.
    wrapper = dict(type='armlab.MultimodalDistributedDataParallel',
                   broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters',
                                                  False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    if not torch.cuda.is_available():
        wrapper['device_ids'] = None
        cfg.env_cfg = cfg.get('env_cfg', {})
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        if launcher == 'pytorch' and not dist.is_initialized():
            os.environ.setdefault('LOCAL_RANK', '0')
            dist.init_process_group(backend='gloo')
    cfg.model_wrapper_cfg = wrapper


def close_distributed() -> None:
    """Destroy the default process group, if one is up (idempotent).

    Call it after dropping the last reference to the runner: the DDP
    wrapper's reducer keeps the gloo group (and its threads) alive, and the
    runner sits in reference cycles that only the garbage collector breaks.
    A group still alive at interpreter shutdown aborts the process
    ("terminate called without an active exception") after a run that
    succeeded, so the collection runs first, then the group goes.
    """
    gc.collect()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


#: ``--vis-backend`` names -> (mmengine backend type, the package it needs).
VIS_BACKENDS = {
    'tensorboard': ('TensorboardVisBackend', 'tensorboard'),
    'wandb': ('WandbVisBackend', 'wandb'),
    'mlflow': ('MLflowVisBackend', 'mlflow'),
    'clearml': ('ClearMLVisBackend', 'clearml'),
}


def add_vis_backends(cfg: Config, names) -> None:
    """Add mmengine visualisation backends to the config's visualizer.

    The local backend (``vis_data/scalars.json``, which armlab's plots read)
    stays; each name adds one backend. A missing package is an error here,
    before any training, rather than a crash at the first logged scalar.
    """
    import importlib.util
    backends = list(cfg.visualizer.get('vis_backends') or [])
    for name in names or ():
        if name not in VIS_BACKENDS:
            raise ValueError(f'--vis-backend: unknown backend {name!r}; '
                             f'choose from {sorted(VIS_BACKENDS)}')
        backend, package = VIS_BACKENDS[name]
        if importlib.util.find_spec(package) is None:
            raise ImportError(f'--vis-backend {name} needs the {package!r} '
                              f'package: pip install {package}')
        if all(b.get('type') != backend for b in backends):
            backends.append(dict(type=backend))
    cfg.visualizer.vis_backends = backends


def use_amp(cfg: Config) -> None:
    """Mixed precision, as ``tools/train.py --amp`` sets it: mmengine's
    ``AmpOptimWrapper`` with dynamic loss scaling unless the config says."""
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def merge_cli_options(cfg: Config, cfg_options) -> None:
    """Merge ``--cfg-options`` and refuse keys that the config does not have.

    A typo such as ``optim_wrapper.optimizer.lrr=0.1`` would otherwise add a
    new key silently and change nothing.
    """
    if not cfg_options:
        return
    for key in cfg_options:
        node = dict(cfg.items())
        parts = key.split('.')
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, (list, tuple)) and part.isdigit():
                node = node[int(part)]
                continue
            if not isinstance(node, dict) or part not in node:
                raise KeyError(
                    f'--cfg-options {key}: the config has no key '
                    f'{".".join(parts[:i + 1])!r}')
            node = node[part]
        if isinstance(node, dict) and parts[-1] not in node and \
                not _is_new_leaf_allowed(node):
            raise KeyError(f'--cfg-options {key}: the config has no key '
                           f'{key!r} (known here: {sorted(node)})')
    cfg.merge_from_dict(cfg_options)


def _is_new_leaf_allowed(node: dict) -> bool:
    # Module configs (with a ``type``) accept any constructor argument.
    return 'type' in node


"""Helpers the benchmarks share: environment record, config discovery,
AV-Digits batch shapes, model building and step timing."""
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.runner import set_random_seed
from mmpretrain.structures import DataSample

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from armlab.engine.launch import use_amp  # noqa: E402
from armlab.registry import MODELS  # noqa: E402

RESULTS = REPO / 'benchmarks' / 'results'
JOINT_CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
#: Directories under configs/ that hold no balancing method.
NOT_METHODS = ('_base_', 'joint', 'unimodal')
NUM_CLASSES = 10
#: Per-sample shapes the AV-Digits train pipeline packs (64 log-mel bins x 51
#: frames of 1 s at hop 320; one 32x32 RGB frame). data_loading.py checks
#: them against the real pipeline.
AVDIGITS_SHAPES = dict(audio=(1, 64, 51), visual=(3, 1, 32, 32))


# -- helpers shared by the benchmarks -----------------------------------------
def environment(seed: Optional[int] = None) -> dict:
    """Machine, versions and load: what a reader needs to compare runs."""
    import mmengine
    import mmpretrain
    cpu = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f
                        if line.startswith('model name')), cpu)
    except OSError:
        pass
    env = dict(
        machine=f'{platform.machine()}, {os.cpu_count()} CPU cores, '
        f'{torch.get_num_threads()} torch threads',
        cpu=cpu, cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(), python=platform.python_version(),
        torch=torch.__version__, mmengine=mmengine.__version__,
        mmpretrain=mmpretrain.__version__,
        cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available()
        else None,
        load_average_at_start=list(os.getloadavg()))
    if seed is not None:
        env['seed'] = seed
    return env


def write_result(result: dict, out: str) -> None:
    """Print the result and write it as JSON (the folder is created)."""
    result['load_average_at_end'] = list(os.getloadavg())
    print(json.dumps(result, indent=1))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(result, f, indent=1)


def short_name(path: Path) -> str:
    """``configs/ogm_ge/ogm-ge_resnet18_avdigits.py`` -> ``ogm-ge``."""
    return path.stem.replace('_resnet18_avdigits', '')


def relative(path: Path) -> str:
    """The path from the repository root when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) \
        else str(path)


def error_text(err: BaseException) -> str:
    """``failed: <type>: <first line of the message>`` for the tables."""
    return f'failed: {type(err).__name__}: {err}'.splitlines()[0][:300]


def method_configs(all_variants: bool = False) -> Dict[str, Path]:
    """Name -> config of each method directory's audio-dominant default.

    The default is the config with a ``-visual-dominant`` twin, else the only
    one; a directory where that is ambiguous contributes all its configs, so
    that nothing is dropped silently. ``all_variants`` takes every
    ``*_resnet18_avdigits.py`` (ablations, joint fusions) instead.
    """
    skipped = ('_base_', 'unimodal') if all_variants else NOT_METHODS
    found = {}
    for folder in sorted((REPO / 'configs').iterdir()):
        if not folder.is_dir() or folder.name in skipped:
            continue
        candidates = sorted(folder.glob('*_resnet18_avdigits.py'))
        if all_variants:
            chosen = [c for c in candidates if c != JOINT_CONFIG]
        else:
            twins = [c for c in candidates if c.with_name(
                f'{c.stem}-visual-dominant.py').is_file()]
            chosen = twins if len(twins) == 1 else candidates
        for path in chosen:
            found[short_name(path)] = path
    return found


def load_config(path: Path, width: Optional[int] = None) -> Config:
    """The config, with every encoder at ``width`` base channels."""
    cfg = Config.fromfile(str(path))
    if width is not None:
        for encoder in cfg.model.encoders.values():
            encoder.base_channels = width
    return cfg


def make_batches(num_batches: int, batch: int, seed: int = 0,
                 shapes: Optional[Dict[str, tuple]] = None) -> List[dict]:
    """Collated batches as the dataloader gives them (pseudo_collate: lists
    of per-sample tensors); the visual values are on the 0-255 scale.
    ``shapes``: per-sample shapes (default: AV-Digits' packed shapes)."""
    shapes = shapes or AVDIGITS_SHAPES
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(num_batches):
        labels = torch.randint(0, NUM_CLASSES, (batch, ), generator=g)
        audio = torch.randn(batch, *shapes['audio'], generator=g)
        # A class cue in the audio, so that losses and gradients look like
        # those of a model that learns.
        audio[:, 0, :NUM_CLASSES, 0] += 3 * torch.nn.functional.one_hot(
            labels, NUM_CLASSES)
        visual = 33 + 78 * torch.randn(batch, *shapes['visual'], generator=g)
        batches.append(dict(
            inputs=dict(audio=list(audio), visual=list(visual)),
            data_samples=[DataSample().set_gt_label(int(y))
                          for y in labels]))
    return batches


def set_threads(threads: Optional[int]) -> None:
    """Torch intra-op threads (None: torch's default, one per core).

    On a loaded machine OpenMP threads that wait for a busy core make a
    step many times slower: --quick runs on one thread."""
    if threads:
        torch.set_num_threads(threads)


def init_weights_quietly(model) -> None:
    """``model.init_weights()`` as the runner calls it, without mmengine's
    per-parameter report."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


# -- what the epoch-level hooks would have set ---------------------------------
@torch.no_grad()
def _class_feature_sums(model, batches: Sequence[dict]):
    sums, counts = {}, torch.zeros(model.num_classes)
    was_training = model.training
    model.eval()
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        feats = model.extract_feat(data['inputs'])
        labels = torch.cat([ds.gt_label for ds in data['data_samples']])
        for m, f in feats.items():
            s = torch.zeros(model.num_classes, f.shape[1], device=f.device)
            sums[m] = sums.get(m, 0) + s.index_add_(0, labels.to(f.device),
                                                    f.float())
        counts += torch.bincount(labels.cpu(), minlength=model.num_classes)
    model.train(was_training)
    return sums, counts.to(next(model.parameters()).device)


def emulate_epoch_hooks(model, batches: Sequence[dict], epoch_length: int,
                        hooks: Sequence[dict] = ()) -> None:
    """Give the balancer the state its method's hook sets in a run.

    Duck-typed, so that a balancer written later needs no change here:
    ``set_warmup`` (ARMHook, with the config's warm-up from ``hooks``),
    ``epoch_length`` (what the message hub gives MLA in a run), prototypes
    (PMRHook, here from the first batch instead of 10 % of the train split).
    """
    balancer = model.balancer
    if hasattr(balancer, 'set_warmup'):
        warmup = next((h.get('warmup_epochs', 5) for h in hooks
                       if str(h.get('type')).endswith('ARMHook')), 5)
        balancer.set_warmup(warmup)
    if hasattr(balancer, 'epoch_length'):
        balancer.epoch_length = epoch_length
    if hasattr(balancer, 'update_prototypes') and hasattr(
            balancer, 'has_prototypes') and not balancer.has_prototypes(
                model.modalities):
        balancer.update_prototypes(*_class_feature_sums(model, batches[:1]))


def set_epoch(model, epoch: int) -> None:
    """The epoch as mmengine's RuntimeInfoHook records it (every balancer
    reads it from the message hub)."""
    MessageHub.get_current_instance().update_info('epoch', epoch)


def build_trainable(path: Path, width: int, batches: Sequence[dict],
                    seed: int, device: str = 'cpu',
                    channels_last: bool = False, amp: bool = False):
    """Model and optimiser wrapper of a config, ready to step
    (``channels_last``: NHWC encoders; ``amp``: mixed precision, as
    ``tools/train.py --amp`` sets it)."""
    cfg = load_config(path, width)
    if channels_last:
        for encoder in cfg.model.encoders.values():
            encoder.channels_last = True
    if amp:
        use_amp(cfg)
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    init_weights_quietly(model)
    model.to(device).train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    emulate_epoch_hooks(model, batches, epoch_length=len(batches),
                        hooks=cfg.get('custom_hooks') or [])
    return model, optim_wrapper


# -- the measurement ------------------------------------------------------------
def time_steps(model, optim_wrapper, batches: Sequence[dict],
               epochs: Sequence[int], device: str) -> float:
    """Seconds per training step, over len(batches) steps in each epoch."""
    hub = MessageHub.get_current_instance()
    total, steps = 0.0, 0
    for epoch in epochs:
        set_epoch(model, epoch)
        synchronize(device)
        start = time.perf_counter()
        for i, data in enumerate(batches):
            hub.update_info('iter', epoch * len(batches) + i)
            model.train_step(data, optim_wrapper)
        synchronize(device)
        total += time.perf_counter() - start
        steps += len(batches)
    return total / steps

"""Train and evaluate one round's model with an ordinary mmengine Runner.

A round is the config's own training, with three changes: the training
dataset is wrapped in ``LabelledSubset`` (the round's labelled set), the work
dir is ``<run>/round_<t>``, and the seed is the round's. Everything else
(hooks, checkpoints, metrics, resume inside a round) is what
``tools/train.py`` does, so a round can be inspected like any other run.
"""
import copy
import glob
import os
import os.path as osp
import time
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Dict, Optional

import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.runner import Runner, load_checkpoint

from armlab.registry import MODELS


@dataclass
class RoundModel:
    """A trained (or loaded) round: its model, checkpoint and metrics."""
    model: torch.nn.Module
    cfg: Config
    checkpoint: str
    val_metrics: Dict[str, float]
    test_metrics: Dict[str, float]
    train_time_s: float = 0.0

    @property
    def loader_builder(self):
        """What ``TrainingSetValuation.build`` needs of a runner: the config,
        mmengine's (static) dataloader builder and the seed."""
        return SimpleNamespace(cfg=self.cfg,
                               build_dataloader=Runner.build_dataloader,
                               seed=self.cfg.get('randomness', {}).get('seed'))

    def release(self) -> None:
        """Drop the model (the runner went with ``train_round``). Configs
        for active learning keep ``persistent_workers=False``, so no
        dataloader worker outlives its round."""
        self.model = None


def set_epochs(cfg: Config, epochs: int) -> None:
    """Train ``epochs`` epochs; schedulers that ended at the old
    ``max_epochs`` (the one-cycle schedule) end at the new one."""
    old = cfg.train_cfg.get('max_epochs')
    cfg.train_cfg.max_epochs = int(epochs)
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if old is not None and scheduler.get('end') == old:
            scheduler['end'] = int(epochs)


def round_config(base: Config, round_dir: str, labelled_file: str,
                 num_labelled: int, seed: int, epochs: Optional[int] = None,
                 load_from: Optional[str] = None,
                 name: str = 'al') -> Config:
    """The config of one round's training (see the module docstring).

    Args:
        base: The user's config (not modified).
        round_dir: The round's work dir.
        labelled_file: The round's labelled-set JSON (``LabelPool.save``).
        num_labelled: Its size (to avoid a last batch of one sample).
        seed: The round's training seed.
        epochs: Epochs to train; None keeps the config's.
        load_from: Warm start: the previous round's checkpoint.
        name: Prefix of the runner's experiment name.
    """
    cfg = copy.deepcopy(base)
    cfg.work_dir = round_dir
    loader = cfg.train_dataloader
    loader.dataset = dict(type='LabelledSubset', dataset=loader.dataset,
                          indices_file=labelled_file)
    # A final partial batch trains BatchNorm on a few samples and spoils
    # its running statistics: 1,250 labels at batch 16 end each epoch on a
    # batch of 2. On all-real AV-Digits, the same 1,250 labels and seed
    # gave val top-1 67.0 / 57.0 / 69.0 % with that batch and 80.3 / 71.7
    # / 82.0 % without (a round 0 of seed 0; random's round 3 of seeds 0
    # and 3). The set is reshuffled each epoch, so dropping the remainder
    # leaves no sample out for long; a set smaller than one batch keeps
    # its only batch.
    if num_labelled > loader.batch_size and \
            num_labelled % loader.batch_size:
        loader.drop_last = True
    if epochs is not None:
        set_epochs(cfg, epochs)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=int(seed))
    # Resume inside the round if it was interrupted mid-training; else
    # start fresh or warm.
    resume = osp.isfile(osp.join(round_dir, 'last_checkpoint'))
    cfg.resume = resume
    cfg.load_from = None if resume else load_from
    # Unique, so that several runners in one process never share a logger
    # or visualizer instance.
    cfg.experiment_name = f'{name}_{uuid.uuid4().hex[:12]}'
    return cfg


def chosen_checkpoint(round_dir: str, which: str) -> str:
    """The round's model file: the val-best one, else the last epoch's."""
    if which == 'best':
        best = sorted(glob.glob(osp.join(round_dir, 'best_*.pth')))
        preferred = [p for p in best if 'accuracy_top1' in p]
        if preferred or best:
            return (preferred or best)[0]
    last = sorted(glob.glob(osp.join(round_dir, 'epoch_*.pth')),
                  key=lambda p: int(osp.basename(p)[6:-4]))
    if not last:
        raise FileNotFoundError(f'no checkpoint in {round_dir}: does the '
                                'config keep a CheckpointHook?')
    return last[-1]


def prune_checkpoints(round_dir: str, keep: str) -> None:
    """Delete a finished round's other epoch checkpoints (they carry the
    optimiser state, twice the size of the model) and ``last_checkpoint``;
    only ``keep``, the round's model, stays. A run of 9 strategies x 3
    seeds x 6 rounds then holds one model file per round."""
    keep = osp.abspath(keep)
    for path in glob.glob(osp.join(round_dir, 'epoch_*.pth')):
        if osp.abspath(path) != keep:
            os.remove(path)
    marker = osp.join(round_dir, 'last_checkpoint')
    if osp.isfile(marker):
        os.remove(marker)


def evaluate(runner: Runner, cfg: Config) -> Dict[str, Dict[str, float]]:
    """Validation and test metrics of the runner's current model.

    The loops run directly (not ``runner.val()``/``test()``), which would
    re-run the before/after-run hooks and re-format the config twice.
    """
    val = dict(runner.val_loop.run()) if cfg.get('val_dataloader') and \
        cfg.get('val_cfg') is not None else {}
    test = dict(runner.test_loop.run()) if cfg.get('test_dataloader') and \
        cfg.get('test_cfg') is not None else {}
    return dict(val=val, test=test)


def train_round(cfg: Config, checkpoint: str = 'best') -> RoundModel:
    """Train the round, load its chosen checkpoint, evaluate val and test."""
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    train_time = time.perf_counter() - start
    path = chosen_checkpoint(cfg.work_dir, checkpoint)
    runner.load_checkpoint(path, map_location='cpu')
    metrics = evaluate(runner, cfg)
    model = runner.model
    return RoundModel(getattr(model, 'module', model), runner.cfg, path,
                      metrics['val'], metrics['test'], train_time)


def load_round(cfg: Config, checkpoint: str, val_metrics: dict,
               test_metrics: dict, train_time_s: float = 0.0) -> RoundModel:
    """A finished round's model, loaded without training or a runner
    (round 0 copied from the shared cache)."""
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    model.to(get_device())
    model.eval()
    return RoundModel(model, cfg, checkpoint, val_metrics, test_metrics,
                      train_time_s)

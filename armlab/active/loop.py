"""The active-learning loop (docs/active_learning.md).

Round t (t = 0..R) trains f_t on the labelled set L_t (round 0: the shared
random set and model), evaluates it on val and test, runs it once over the
training split (``PoolOutputs`` of the pool and of L_t), lets the strategy
pick b_t pool items with that model, and saves L_{t+1} = L_t ∪ S_t. Round R
only trains and evaluates.

Layout of a run dir::

    al_state.json          # where the run stands (atomic; --resume reads it)
    al_metrics.csv         # one row per round: labels, val/test metrics, times
    curve.png              # test accuracy (fused, masked per modality), gap
    round_<t>/             # the round's mmengine work dir (config, logs,
        labelled.json      #   its model: the one checkpoint kept once the
                           #   round is done), the labelled/unlabelled ids,
        metrics.json       #   raw and summarised val/test metrics,
        selection.json     #   the batch S_t with its histograms and times,
        strategy_state.pth #   and the strategy's state after the round

A run that stops resumes at its first unfinished round: the labelled set,
history and strategy state come from ``al_state.json``; an interrupted
round's training resumes from its last epoch checkpoint.
"""
import io
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from tqdm import tqdm

from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.fileio.atomic_local import write_atomic
from armlab.models.classifiers.multimodal import configured_modalities
from armlab.registry import DATASETS
from armlab.utils.seeding import draw_seed
from . import round0
from .budget import budget_schedule, parse_budget
from .curves import plot_run
from .pool import LabelPool
from .pool_outputs import collect_outputs, mc_probs_fn
from .records import (read_json, selection_record, summarize_metrics,
                      write_csv, write_json)
from .round_training import (RoundModel, load_round, prune_checkpoints,
                             round_config, train_round)
from .settings import ActiveLearningSettings
from .strategies import build_strategy
from .strategies.base import (AcquisitionContext, AcquisitionStrategy,
                              check_selection)
from .strategies.bmmal import bmmal_shares

STATE_FILE = 'al_state.json'
STATE_VERSION = 1
#: Streams of the run's generators, so that no two uses share draws.
_SELECT, _INITIAL, _MC = 0, 1, 2


class ActiveLearningLoop:
    """Run (or resume) one strategy for one seed.

    Args:
        cfg: The training config (its ``active_learning`` block is read by
            the caller into ``settings``).
        settings: Budgets, rounds, strategy, seed, ...
        work_dir: The run dir.
        progress: Show a tqdm bar over rounds.
        after_round: Called with t after round t is saved (tests use it to
            simulate an interruption).
    """

    def __init__(self, cfg: Config, settings: ActiveLearningSettings,
                 work_dir: str, progress: bool = True,
                 after_round: Optional[Callable[[int], None]] = None):
        if int(settings.seed) < 0:
            raise ValueError(f'seed must be >= 0, got {settings.seed}')
        self.cfg = cfg
        self.settings = settings
        self.work_dir = osp.abspath(work_dir)
        self.work_root = osp.abspath(settings.work_root or
                                     osp.dirname(self.work_dir))
        self.progress = progress
        self.after_round = after_round
        self.strategy: AcquisitionStrategy = build_strategy(
            settings.strategy_cfg)
        self.modalities = configured_modalities(cfg.model)
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        self.sample_ids = [str(dataset.get_data_info(i)['sample_id'])
                           for i in range(len(dataset))]
        self.labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
        self.classes = dataset.metainfo.get('classes')
        self.num_samples = len(dataset)
        self.initial = parse_budget(settings.initial_budget, self.num_samples,
                                    'initial_budget')
        self.budgets = budget_schedule(settings.budget, settings.num_rounds,
                                       self.num_samples, self.initial)
        self.num_rounds = len(self.budgets)
        self.pool = LabelPool(self.sample_ids)
        self.history: List[Dict] = []
        self.name = f'{settings.strategy_name}_seed{settings.seed}'

    # -- seeds ------------------------------------------------------------
    def rng(self, round_idx: int, stream: int) -> np.random.Generator:
        return np.random.default_rng(
            [int(self.settings.seed), int(round_idx), stream])

    def train_seed(self, round_idx: int) -> int:
        """The round's training seed: a function of (seed, round) only, so
        every strategy trains round t from the same initialisation."""
        return draw_seed(self.settings.seed, round_idx) % (2**31)

    # -- state ------------------------------------------------------------
    def _identity(self) -> Dict:
        """What a resumed run must share with the run it continues."""
        s = self.settings
        return dict(strategy=s.strategy_cfg, seed=int(s.seed),
                    initial=self.initial, budgets=self.budgets,
                    epochs=s.epochs or self.cfg.train_cfg.get('max_epochs'),
                    reinit_each_round=s.reinit_each_round,
                    checkpoint=s.checkpoint,
                    num_samples=self.num_samples)

    def _round_dir(self, t: int) -> str:
        return osp.join(self.work_dir, f'round_{t}')

    def _load_state(self, resume: bool) -> int:
        path = osp.join(self.work_dir, STATE_FILE)
        if not osp.isfile(path):
            return 0
        if not resume:
            raise FileExistsError(
                f'{self.work_dir} already holds an active-learning run '
                f'({STATE_FILE}); pass --resume to continue it, or choose '
                'another --work-dir')
        state = read_json(path)
        saved = state.get('identity') or {}
        ours = json.loads(json.dumps(self._identity(), default=str))
        differ = sorted(k for k in set(ours) | set(saved)
                        if ours.get(k) != saved.get(k))
        if differ:
            raise ValueError(
                f'{path}: the run was started with other settings '
                + ', '.join(f'{k}: {saved.get(k)!r} then, {ours.get(k)!r} '
                            'now' for k in differ)
                + '; resume it with the same ones, or choose another '
                '--work-dir')
        self.pool = LabelPool(self.sample_ids, state['labelled'])
        self.history = list(state['history'])
        if state.get('strategy_state'):
            with open(osp.join(self.work_dir, state['strategy_state']),
                      'rb') as f:
                self.strategy.load_state_dict(
                    torch.load(io.BytesIO(f.read()), weights_only=False))
        return int(state['next_round'])

    def _save_state(self, next_round: int, strategy_file: str) -> None:
        state = dict(version=STATE_VERSION, identity=self._identity(),
                     next_round=next_round,
                     done=next_round > self.num_rounds,
                     labelled=self.pool.labelled.tolist(),
                     history=self.history, strategy_state=strategy_file)
        write_json(state, osp.join(self.work_dir, STATE_FILE))

    # -- the run ----------------------------------------------------------
    def run(self, resume: bool = False) -> List[Dict]:
        """Run the remaining rounds; return one summary row per round."""
        os.makedirs(self.work_dir, exist_ok=True)
        start = self._load_state(resume)
        total = self.num_rounds + 1
        if start >= total:
            print_log(f'{self.work_dir}: all {total} rounds are done',
                      logger='current')
            return self.history
        bar = tqdm(total=total, initial=start, unit='round',
                   desc=self.name, disable=not self.progress)
        try:
            for t in range(start, total):
                row = self._round(t)
                bar.update(1)
                bar.set_postfix(labels=row['num_labelled'],
                                test_top1=row.get('test_top1'))
                if self.after_round is not None:
                    self.after_round(t)
        finally:
            bar.close()
        return self.history

    def _round(self, t: int) -> Dict:
        round_dir = self._round_dir(t)
        os.makedirs(round_dir, exist_ok=True)
        trained = self._round0() if t == 0 else self._train(t)
        val = summarize_metrics(trained.val_metrics, self.modalities)
        test = summarize_metrics(trained.test_metrics, self.modalities)
        labelled = self.pool.labelled
        self._write_metrics(t, trained, round_dir)
        row = dict(round=t, num_labelled=len(labelled),
                   train_time_s=round(trained.train_time_s, 3))
        if t < self.num_rounds or self._observes():
            row.update(self._acquire(t, trained, val))
        row.update({f'val_{k}': v for k, v in val.items()})
        row.update({f'test_{k}': v for k, v in test.items()})
        trained.release()
        self.history.append(row)
        strategy_file = osp.join(f'round_{t}', 'strategy_state.pth')
        buf = io.BytesIO()
        torch.save(self.strategy.state_dict(), buf)
        write_atomic(buf.getvalue(), osp.join(self.work_dir, strategy_file))
        self._save_state(t + 1, strategy_file)
        prune_checkpoints(round_dir, osp.join(round_dir, read_json(
            osp.join(round_dir, 'metrics.json'))['checkpoint']))
        write_csv(self.history, osp.join(self.work_dir, 'al_metrics.csv'))
        plot_run(self.history, self.modalities,
                 osp.join(self.work_dir, 'curve.png'),
                 title=f'{self.settings.strategy_name}, seed '
                 f'{self.settings.seed} ({osp.basename(self.work_dir)})')
        return row

    def _observes(self) -> bool:
        return type(self.strategy).observe is not AcquisitionStrategy.observe

    # -- training -----------------------------------------------------------
    def _round_cfg(self, t: int, load_from: Optional[str] = None,
                   round_dir: Optional[str] = None) -> Config:
        round_dir = round_dir or self._round_dir(t)
        return round_config(self.cfg, round_dir,
                            osp.join(round_dir, 'labelled.json'),
                            len(self.pool.labelled), self.train_seed(t),
                            self.settings.epochs, load_from,
                            name=f'{self.name}_round{t}')

    def _train(self, t: int) -> RoundModel:
        round_dir = self._round_dir(t)
        self.pool.save(osp.join(round_dir, 'labelled.json'), t)
        load_from = None
        if not self.settings.reinit_each_round:
            prev = self._round_dir(t - 1)
            load_from = osp.join(prev, read_json(
                osp.join(prev, 'metrics.json'))['checkpoint'])
        return train_round(self._round_cfg(t, load_from),
                           self.settings.checkpoint)

    def _round0(self) -> RoundModel:
        """Copy the shared round 0 into the run and load its model."""
        expected = self._round0_fingerprint()
        if self.settings.round0_from:
            source = round0.resolve_source(self.settings.round0_from)
            round0.check_fingerprint(source, expected)
        else:
            source = round0.ensure_cache(
                osp.join(self.work_root,
                         f'round0_seed{self.settings.seed}'),
                expected, self._make_round0)
        target = self._round_dir(0)
        round0.copy_round0(source, target)
        labelled = LabelPool.read_labelled(osp.join(target, 'labelled.json'),
                                           self.sample_ids)
        if len(labelled) != self.initial:
            raise ValueError(f'{source}: round 0 has {len(labelled)} labels '
                             f'but initial_budget asks for {self.initial}')
        self.pool = LabelPool(self.sample_ids, labelled)
        metrics = read_json(osp.join(target, 'metrics.json'))
        return load_round(self._round_cfg(0),
                          osp.join(target, metrics['checkpoint']),
                          metrics['val_raw'], metrics['test_raw'],
                          metrics.get('train_time_s', 0.0))

    def _round0_fingerprint(self) -> Dict[str, str]:
        cfg = self._round_cfg(0, round_dir=self.work_root)
        return round0.fingerprint(dict(
            model=cfg.model,
            train_data=cfg.train_dataloader.dataset.dataset,
            # what of the loader changes the trained model (not workers)
            loader={k: cfg.train_dataloader.get(k) for k in (
                'batch_size', 'drop_last', 'sampler', 'collate_fn')},
            optimizer=cfg.optim_wrapper,
            schedule=cfg.get('param_scheduler'),
            train_cfg=cfg.train_cfg,
            checkpoint=self.settings.checkpoint,
            initial=self.initial,
            seed=int(self.settings.seed)))

    def _make_round0(self, folder: str) -> None:
        """Train round 0 on a seeded random labelled set in ``folder``."""
        rng = self.rng(0, _INITIAL)
        pool = LabelPool(self.sample_ids, rng.choice(
            self.num_samples, self.initial, replace=False))
        pool.save(osp.join(folder, 'labelled.json'), 0)
        self.pool = pool
        trained = train_round(self._round_cfg(0, round_dir=folder),
                              self.settings.checkpoint)
        self._write_metrics(0, trained, folder)
        prune_checkpoints(folder, trained.checkpoint)
        trained.release()
        trained.release()

    def _write_metrics(self, t: int, trained: RoundModel,
                       folder: str) -> None:
        write_json(dict(
            round=t, num_labelled=len(self.pool.labelled),
            checkpoint=osp.relpath(trained.checkpoint, folder),
            train_time_s=trained.train_time_s,
            train_seed=self.train_seed(t),
            val=summarize_metrics(trained.val_metrics, self.modalities),
            test=summarize_metrics(trained.test_metrics, self.modalities),
            val_raw=trained.val_metrics, test_raw=trained.test_metrics),
            osp.join(folder, 'metrics.json'))

    # -- acquisition --------------------------------------------------------
    def _acquire(self, t: int, trained: RoundModel, val: Dict) -> Dict:
        """Pool pass, feedback, selection; returns the row's fields."""
        model = trained.model
        # The whole training split (the pool and the labelled set): derived
        # from the base config, whose train dataset is not yet wrapped in
        # the round's LabelledSubset.
        valuation = TrainingSetValuation(train_eval_loader_cfg(self.cfg),
                                         owner='active learning')
        valuation.build(trained.loader_builder)
        if valuation.num_samples != self.num_samples:
            raise ValueError(
                f'the pool pass has {valuation.num_samples} samples '
                f'but train_dataloader has {self.num_samples}: both must '
                'read the same training split')
        labelled, unlabelled = self.pool.labelled, self.pool.unlabelled
        start = time.perf_counter()
        outputs = collect_outputs(model, valuation, dict(
            pool=unlabelled, labelled=labelled))
        pool_time = time.perf_counter() - start
        val_metrics = dict(trained.val_metrics)
        val_metrics.update(val)
        ctx = AcquisitionContext(
            model=model, round=t, num_rounds=self.num_rounds,
            labelled=labelled, unlabelled=unlabelled, pool=outputs['pool'],
            labelled_outputs=outputs.get('labelled'),
            val_metrics=val_metrics, rng=self.rng(t, _SELECT),
            mc_probs=mc_probs_fn(model, outputs['pool'],
                                 draw_seed(self.settings.seed, t, _MC)),
            extra=dict(seed=int(self.settings.seed), budgets=self.budgets,
                       labelled_labels=self.labels[labelled],
                       history=list(self.history), work_dir=self.work_dir))
        if t > 0 and self._observes():
            self.strategy.observe(ctx, val_metrics)
        fields = dict(pool_pass_time_s=round(pool_time, 3))
        if t >= self.num_rounds:
            return fields
        budget = self.budgets[t]
        start = time.perf_counter()
        selected = self.strategy.select(ctx, budget)
        query_time = time.perf_counter() - start
        selected = check_selection(selected, ctx, budget,
                                   who=self.settings.strategy_name)
        pool = outputs['pool']
        shares = bmmal_shares(pool.subset_probs, pool.predictions,
                              pool.modalities)[0] \
            if pool.subset_probs else None
        position = {int(i): r for r, i in enumerate(pool.indices)}
        record = dict(round=t, strategy=self.settings.strategy_cfg,
                      budget=budget, query_time_s=query_time,
                      pool_pass_time_s=pool_time, pool_size=len(unlabelled),
                      indices=selected.tolist(),
                      ids=self.pool.ids(selected))
        record.update(selection_record(selected, position, self.labels,
                                       self.classes, shares,
                                       self.modalities))
        write_json(record, osp.join(self._round_dir(t), 'selection.json'))
        self.pool.add(selected)
        fields.update(num_selected=budget, query_time_s=round(query_time, 4))
        return fields

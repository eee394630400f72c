"""The settings of an active-learning run (``active_learning = dict(...)``).

Config block, command-line overrides and defaults meet here, and a typo in
either is an error naming the key.
"""
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Union

from .budget import Budget

CHECKPOINTS = ('best', 'last')


@dataclass
class ActiveLearningSettings:
    """Settings of one run (docs/active_learning.md).

    Attributes:
        strategy: Strategy name or ``dict(type=name, **kwargs)``.
        initial_budget: Round-0 labels: a count or a fraction of the pool.
        budget: Labels per round: a count, a fraction, or a per-round list.
        num_rounds: Acquisition rounds R (R + 1 trainings); None takes it
            from a list budget.
        epochs: Training epochs per round; None keeps the config's.
        reinit_each_round: Train every round from a fresh initialisation
            (BMMAL); False warm-starts from the previous round's model.
        checkpoint: The round's model: ``'best'`` on the validation split
            (falls back to the last where the config keeps no best) or
            ``'last'``.
        round0_from: A previous run dir (or round-0 cache dir) whose round 0
            (labelled set and model) this run copies.
        work_root: Where the shared round-0 cache ``round0_seed<k>/`` lives;
            default: the run's parent dir.
        reward_split: The split of the metrics strategies see; only
            ``'val'``: test never drives a selection or a reward.
        seed: The run seed (round-0 set, per-round training seeds, the
            strategies' generators).
    """
    strategy: Union[str, Dict[str, Any]] = 'random'
    initial_budget: Union[int, float] = 200
    budget: Budget = 200
    num_rounds: Optional[int] = 5
    epochs: Optional[int] = None
    reinit_each_round: bool = True
    checkpoint: str = 'best'
    round0_from: Optional[str] = None
    work_root: Optional[str] = None
    reward_split: str = 'val'
    seed: int = 0

    def __post_init__(self):
        if self.checkpoint not in CHECKPOINTS:
            raise ValueError(f'active_learning.checkpoint must be one of '
                             f'{CHECKPOINTS}, got {self.checkpoint!r}')
        if self.reward_split != 'val':
            raise ValueError('active_learning.reward_split must be "val": '
                             'the test split never drives selection or '
                             f'rewards (got {self.reward_split!r})')
        if self.epochs is not None and (isinstance(self.epochs, bool) or
                                        int(self.epochs) != self.epochs or
                                        self.epochs < 1):
            raise ValueError(f'active_learning.epochs must be an int >= 1, '
                             f'got {self.epochs!r}')
        if isinstance(self.budget, tuple):
            self.budget = list(self.budget)

    @classmethod
    def from_config(cls, block: Optional[dict] = None,
                    **overrides) -> 'ActiveLearningSettings':
        """Settings from the config's ``active_learning`` block, then the
        non-None ``overrides`` (command line)."""
        values = dict(block or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise KeyError(f'active_learning: unknown keys {unknown}; known: '
                           f'{sorted(known)}')
        for key, value in overrides.items():
            if key not in known:
                raise KeyError(f'unknown active-learning setting {key!r}')
            if value is not None:
                values[key] = value
        return cls(**values)

    @property
    def strategy_cfg(self) -> Dict[str, Any]:
        return dict(type=self.strategy) if isinstance(self.strategy, str) \
            else dict(self.strategy)

    @property
    def strategy_name(self) -> str:
        return str(self.strategy_cfg.get('type'))

    def with_strategy(self, name: str) -> 'ActiveLearningSettings':
        """Settings for strategy ``name``: the configured kwargs are kept
        when the configured strategy is the same, dropped otherwise."""
        cfg = self.strategy_cfg if self.strategy_name == name \
            else dict(type=name)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values['strategy'] = cfg
        return type(self)(**values)

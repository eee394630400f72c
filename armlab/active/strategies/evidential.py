"""Evidential acquisition: label what the fused opinion does not know
(docs/active_learning.md).

``EvidentialFusion`` gives every pool item a fused opinion with an
uncertainty u (mass left to "any class": little evidence overall) and a
conflict C (mass the modalities' opinions put on contradicting classes).
Top-b of u asks for items that neither modality has evidence for; top-b of
C for items on which the modalities disagree; the mix weighs the two masses
directly, as both lie in [0, 1].
"""
import numpy as np
import torch

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy, PoolOutputs, top_k

CRITERIA = ('uncertainty', 'conflict', 'mix')


def difficulty_scores(pool: PoolOutputs, criterion: str = 'uncertainty',
                      mix_weight: float = 0.5,
                      who: str = 'evidential acquisition',
                      model=None) -> torch.Tensor:
    """(N,) fused u, C, or (1 - mix_weight) u + mix_weight C of the pool.

    ``model`` (optional) only names the fusion in the error message.

    Raises:
        ValueError: on an unknown criterion, or when the pool carries no
            evidential opinions (the fusion is not ``EvidentialFusion``).
    """
    if criterion not in CRITERIA:
        raise ValueError(f'{who}: unknown criterion {criterion!r}; choose one '
                         f'of {CRITERIA}')
    if not 0 <= mix_weight <= 1:
        raise ValueError(f'{who}: mix_weight must lie in [0, 1], got '
                         f'{mix_weight}')
    if not has_opinions(pool):
        fusion = getattr(model, 'fusion', None)
        named = f' ({type(fusion).__name__})' if fusion is not None else ''
        raise ValueError(
            f'{who} needs the fused opinions of the pool '
            "(ctx.pool.evidential with 'uncertainty' and 'conflict'), but "
            f'the model\'s fusion{named} forms none. Set model.fusion.type='
            "'EvidentialFusion' in the config (see "
            'configs/evidential/evidential_resnet18_avdigits.py).')
    u = pool.evidential['uncertainty'].double()
    c = pool.evidential['conflict'].double()
    if criterion == 'uncertainty':
        return u
    if criterion == 'conflict':
        return c
    return (1 - mix_weight) * u + mix_weight * c


def has_opinions(pool: PoolOutputs) -> bool:
    """True when the pool carries the fused u and C of an evidential
    fusion."""
    ev = pool.evidential
    return bool(ev) and 'uncertainty' in ev and 'conflict' in ev


@ACQUISITION_STRATEGIES.register_module(
    name=['evidential', 'EvidentialStrategy'])
class EvidentialStrategy(AcquisitionStrategy):
    """Top-b of the fused evidential uncertainty, conflict, or their mix.

    Args:
        criterion: ``'uncertainty'`` (u = K / S), ``'conflict'`` (C) or
            ``'mix'``.
        mix_weight: Weight of C in the mix (u gets 1 - mix_weight).
    """

    def __init__(self, criterion: str = 'uncertainty',
                 mix_weight: float = 0.5):
        if criterion not in CRITERIA:
            raise ValueError(f'EvidentialStrategy: unknown criterion '
                             f'{criterion!r}; choose one of {CRITERIA}')
        if not 0 <= mix_weight <= 1:
            raise ValueError(f'EvidentialStrategy: mix_weight must lie in '
                             f'[0, 1], got {mix_weight}')
        self.criterion = criterion
        self.mix_weight = mix_weight

    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        scores = difficulty_scores(ctx.pool, self.criterion, self.mix_weight,
                                   who='EvidentialStrategy', model=ctx.model)
        return top_k(ctx, scores, budget)

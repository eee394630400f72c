"""Label budgets: a count, a fraction of the pool, or a per-round list.

A fraction is of the *whole* training split (the pool before any labelling),
so "0.05 per round" buys the same number of labels every round, as in
BMMAL's fixed 1,000-per-round protocol.
"""
import numbers
from typing import List, Optional, Sequence, Union

Budget = Union[int, float, Sequence[Union[int, float]]]


def parse_budget(value: Union[int, float], pool_size: int,
                 what: str = 'budget') -> int:
    """One budget as a number of samples.

    Args:
        value: An int >= 1 (a count) or a float in (0, 1] (a fraction of
            ``pool_size``, rounded, at least 1).
        pool_size: N, the size of the training split.
        what: The setting's name, for error messages.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{what} must be an int (a count) or a float in '
                        f'(0, 1] (a fraction of the pool), got {value!r}')
    if isinstance(value, numbers.Integral):
        count = int(value)
        if count < 1:
            raise ValueError(f'{what} must be >= 1 sample, got {count}')
    else:
        if not 0 < value <= 1:
            raise ValueError(f'{what} as a float is a fraction of the pool '
                             f'and must lie in (0, 1], got {value!r}; give '
                             'an int for a count')
        count = max(1, int(round(value * pool_size)))
    if count > pool_size:
        raise ValueError(f'{what} {count} exceeds the pool of {pool_size} '
                         'samples')
    return count


def budget_schedule(budget: Budget, num_rounds: Optional[int],
                    pool_size: int, initial: int = 0) -> List[int]:
    """Per-round numbers of labels to buy.

    Args:
        budget: One budget for every round, or a list with one per round.
        num_rounds: The number of acquisition rounds; None takes it from a
            list budget.
        pool_size: N, the size of the training split.
        initial: Labels of round 0, counted against the pool.

    Returns:
        list: ``num_rounds`` counts, each >= 1.
    """
    if isinstance(budget, (list, tuple)):
        if not budget:
            raise ValueError('budget list is empty; give one budget per round')
        if num_rounds is not None and len(budget) != num_rounds:
            raise ValueError(f'budget list has {len(budget)} entries but '
                             f'num_rounds={num_rounds}; give one per round '
                             'or leave num_rounds unset')
        counts = [parse_budget(b, pool_size, f'budget[{i}]')
                  for i, b in enumerate(budget)]
    else:
        if num_rounds is None:
            raise ValueError('num_rounds is needed when the budget is not a '
                             'per-round list')
        if isinstance(num_rounds, bool) or not isinstance(
                num_rounds, numbers.Integral) or num_rounds < 0:
            raise ValueError(f'num_rounds must be an int >= 0, got '
                             f'{num_rounds!r}')
        counts = [parse_budget(budget, pool_size)] * int(num_rounds)
    total = initial + sum(counts)
    if total > pool_size:
        raise ValueError(f'initial budget {initial} + per-round budgets '
                         f'{counts} = {total} labels exceed the pool of '
                         f'{pool_size} samples')
    return counts


def parse_budget_arg(text: str) -> Budget:
    """A command-line budget: ``200`` (count), ``0.05`` (fraction) or
    ``100,200,400`` (per-round list)."""
    def number(part: str) -> Union[int, float]:
        part = part.strip()
        try:
            return int(part)
        except ValueError:
            pass
        try:
            return float(part)
        except ValueError:
            raise ValueError(f'budget {text!r}: {part!r} is not a number') \
                from None

    if ',' in text:
        return [number(p) for p in text.split(',') if p.strip()]
    return number(text)

"""A re-sampling sampler whose draws can mask a modality.

Data-level balancing methods (sample-level modality valuation,
configs/modality_valuation/README.md; ARM's contribution-driven
re-sampling, configs/arm/README.md) decide after an epoch
how often each training sample is seen next, and which modality its extra
copies lack. A hook computes that *plan* and hands it to this sampler, either
per sample with :meth:`ResamplingSampler.set_plan` (a repeat count and one
mask row per sample), or as a list of extra items with
:meth:`ResamplingSampler.set_extra_items` (each with its own mask, so that one
sample can have copies that lack different modalities). The sampler turns it
into the epoch's index list, each extra copy as ``(index, present)`` which
``MultimodalDataset.__getitem__`` understands.

Without a plan the sampler is mmengine's ``DefaultSampler`` (same seed, same
order, same per-rank slices), so a config can use it from the first epoch.
Every random decision is seeded by ``seed + epoch`` and taken on the global
list before the per-rank slice, so all ranks agree as long as they were given
the same plan.
"""
import math
from typing import Dict, Iterator, List, Optional, Sequence, Sized, Tuple, \
    Union

import numpy as np
import torch
from mmengine.dataset import DefaultSampler
from mmengine.dist import get_dist_info

from armlab.registry import DATA_SAMPLERS

#: One item of an epoch: a plain index, or an index with its presence mask.
Item = Union[int, Tuple[int, Tuple[bool, ...]]]

_MODES = ('repeat', 'weighted')


def _check_repeats(repeats, num_samples: int) -> np.ndarray:
    """``repeats`` as an int64 array (N,) of values >= 1, or a clear error."""
    array = np.asarray(repeats)
    if array.shape != (num_samples, ):
        raise ValueError(f'set_plan: `repeats` must have shape (N,) with '
                         f'N={num_samples} (the dataset length), got shape '
                         f'{array.shape}')
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f'set_plan: `repeats` must hold integers, got dtype '
                        f'{array.dtype}')
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError('set_plan: `repeats` must hold whole numbers, got '
                         f'e.g. {array[array != np.round(array)][:5]}')
    array = array.astype(np.int64)
    if array.min() < 1:
        bad = np.flatnonzero(array < 1)
        raise ValueError(f'set_plan: `repeats` must be >= 1 (every sample '
                         f'appears at least once); samples {bad[:5].tolist()}'
                         f' have {array[bad[:5]].tolist()} (N={num_samples})')
    return array


def _check_masks(masks, repeats: np.ndarray,
                 modalities: Optional[Sequence[str]]) -> np.ndarray:
    """``masks`` as a bool array (N, M), or a clear error."""
    num_samples = len(repeats)
    array = np.asarray(masks)
    if array.ndim != 2 or array.shape[0] != num_samples:
        raise ValueError(f'set_plan: `masks` must have shape (N, M) with '
                         f'N={num_samples} (the dataset length), got shape '
                         f'{array.shape}')
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.number) or \
                not np.all(np.isin(array, (0, 1))):
            raise TypeError(f'set_plan: `masks` must hold booleans (True = '
                            f'present), got dtype {array.dtype}')
        array = array.astype(bool)
    if modalities is not None and array.shape[1] != len(modalities):
        raise ValueError(f'set_plan: `masks` has shape {array.shape}, '
                         f'expected M={len(modalities)} columns, one per '
                         f'modality {list(modalities)} (N={num_samples})')
    empty = np.flatnonzero((repeats > 1) & ~array.any(axis=1))
    if empty.size:
        raise ValueError(f'set_plan: `masks` rows {empty[:5].tolist()} mark '
                         'every modality absent, but those samples have '
                         'extra copies; a copy needs one present modality '
                         f'(shape {array.shape}, N={num_samples})')
    return array


def _check_extra_indices(indices, num_samples: int) -> np.ndarray:
    """``indices`` as an int64 array (E,) of sample indices, or an error."""
    array = np.asarray(indices)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f'set_extra_items: `indices` must have shape (E,), '
                         f'got shape {array.shape} (N={num_samples})')
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f'set_extra_items: `indices` must hold integers, got '
                        f'dtype {array.dtype}')
    bad = np.flatnonzero((array < 0) | (array >= num_samples))
    if bad.size:
        raise ValueError(f'set_extra_items: `indices` must lie in [0, N) with '
                         f'N={num_samples} (the dataset length); items '
                         f'{bad[:5].tolist()} are {array[bad[:5]].tolist()}')
    return array.astype(np.int64)


def _check_extra_masks(masks, num_items: int,
                       modalities: Optional[Sequence[str]]) -> np.ndarray:
    """``masks`` as a bool array (E, M), one row per extra item, or an
    error."""
    array = np.asarray(masks)
    if num_items == 0 and array.size == 0:
        width = len(modalities) if modalities is not None else 0
        return np.zeros((0, width), dtype=bool)
    if array.ndim != 2 or array.shape[0] != num_items:
        raise ValueError(f'set_extra_items: `masks` must have shape (E, M) '
                         f'with E={num_items} (one row per extra item), got '
                         f'shape {array.shape}')
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.number) or \
                not np.all(np.isin(array, (0, 1))):
            raise TypeError(f'set_extra_items: `masks` must hold booleans '
                            f'(True = present), got dtype {array.dtype}')
        array = array.astype(bool)
    if modalities is not None and array.shape[1] != len(modalities):
        raise ValueError(f'set_extra_items: `masks` has shape {array.shape}, '
                         f'expected M={len(modalities)} columns, one per '
                         f'modality {list(modalities)}')
    empty = np.flatnonzero(~array.any(axis=1))
    if empty.size:
        raise ValueError(f'set_extra_items: `masks` rows {empty[:5].tolist()} '
                         'mark every modality absent; an extra item needs '
                         f'one present modality (shape {array.shape})')
    return array


@DATA_SAMPLERS.register_module()
class ResamplingSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` plus a re-sampling plan.

    A plan adds *extra items* to the epoch: copies of samples, each with an
    optional presence mask (True = present, columns in the dataset's modality
    order). It is given in one of two forms:

    - per sample, :meth:`set_plan`: ``repeats`` (N,) >= 1, how many times
      each sample appears, and optionally ``masks`` (N, M), the presence row
      shared by all *extra* copies of a sample (ARM);
    - per item, :meth:`set_extra_items`: ``indices`` (E,) and optionally
      ``masks`` (E, M), one row per extra item, so that a sample can have
      copies lacking different modalities (sample-level modality valuation:
      audio-alone and visual-alone copies of the same sample).

    How the items are drawn:

    - ``mode='repeat'`` (Wei et al., ARM): every sample once as a plain int,
      plus its extra items, yielded as ``(i, mask_row)`` (plain ``i`` without
      masks). The epoch grows to ``N + E = sum(repeats)``; use by-epoch LR
      schedules.
    - ``mode='weighted'``: N draws with replacement, ``P(i)`` proportional to
      ``repeats[i]`` (1 + its extra items); a draw of ``i`` is one of its
      extra items with probability ``(repeats[i] - 1) / repeats[i]`` (which
      one uniformly), so the expected share of masked items equals
      ``repeat`` mode's while the epoch length stays N. Equivalently: N
      uniform draws from ``repeat`` mode's list.

    Without a plan (or after :meth:`clear_plan`) it yields exactly what
    ``DefaultSampler`` yields. ``shuffle=False`` keeps the order by index
    (extra items after the plain pass, in the order given, in ``repeat``
    mode; draws sorted in ``weighted`` mode).

    Args:
        dataset: The dataset; its ``metainfo['modalities']``, when present,
            checks the number of mask columns.
        shuffle: Shuffle each epoch (seeded by ``seed + epoch``).
        seed: Seed shared by all ranks; ``None`` draws one and broadcasts it
            (``mmengine.dist.sync_random_seed``).
        round_up: Pad the epoch so every rank gets the same number of items.
        mode: ``'repeat'`` or ``'weighted'``.
        batch_size: The training batch size, when known (the re-sampling
            hooks set it with :meth:`set_batch_size`). A plan changes the
            epoch length, and a length that leaves some rank a last batch of
            a single item would crash BatchNorm in training; ``repeat`` mode
            then leaves out the fewest extra items (the last ones given) that
            avoid it, and :meth:`plan_stats` reports them as ``left_out``.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 mode: str = 'repeat',
                 batch_size: Optional[int] = None) -> None:
        if mode not in _MODES:
            raise ValueError(f'ResamplingSampler: unknown mode {mode!r}, '
                             f'expected one of {_MODES}')
        # Rank and world size are read here rather than in DefaultSampler so
        # that tests can simulate ranks by patching this module's function.
        rank, world_size = get_dist_info()
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        self.rank, self.world_size = rank, world_size
        self.mode = mode
        self.batch_size = batch_size
        #: Extra items left out of this plan's epochs (see ``batch_size``).
        self._left_out = 0
        #: (N,) appearances per sample; None without a plan.
        self.repeats: Optional[np.ndarray] = None
        #: (N, M) mask row per sample of a :meth:`set_plan` plan, else None.
        self.masks: Optional[np.ndarray] = None
        #: (E,) sample of each extra item and (E, M) its mask (or None).
        self.extra_indices: Optional[np.ndarray] = None
        self.extra_masks: Optional[np.ndarray] = None
        self._per_item = False
        self._items: List[Item] = []
        self._update_sizes()

    # ------------------------------------------------------------- the plan
    def set_plan(self, repeats: Union[Sequence[int], np.ndarray],
                 masks: Optional[Union[Sequence[Sequence[bool]],
                                       np.ndarray]] = None) -> None:
        """Use this per-sample plan from the next iteration on.

        Args:
            repeats: (N,) ints >= 1, how many times each sample appears.
            masks: Optional (N, M) bools, the presence row of each sample's
                extra copies (True = present).

        Raises:
            ValueError, TypeError: naming the bad argument, its shape and N.
        """
        num_samples = len(self.dataset)
        checked = _check_repeats(repeats, num_samples)
        checked_masks = None if masks is None else _check_masks(
            masks, checked, self._modalities())
        copied = np.flatnonzero(checked > 1)
        indices = np.repeat(copied, checked[copied] - 1)
        self._set(indices, None if checked_masks is None else
                  checked_masks[indices], checked, checked_masks,
                  per_item=False)

    def set_extra_items(self, indices: Union[Sequence[int], np.ndarray],
                        masks: Optional[Union[Sequence[Sequence[bool]],
                                              np.ndarray]] = None) -> None:
        """Use this per-item plan from the next iteration on.

        Args:
            indices: (E,) sample indices in [0, N) of the extra items; a
                sample may appear several times, e.g. once per modality it
                is copied for. Empty: a plan without extra items.
            masks: Optional (E, M) bools, the presence row of each extra
                item (True = present; at least one per row).

        Raises:
            ValueError, TypeError: naming the bad argument, its shape and N.
        """
        num_samples = len(self.dataset)
        checked = _check_extra_indices(indices, num_samples)
        checked_masks = None if masks is None else _check_extra_masks(
            masks, len(checked), self._modalities())
        repeats = 1 + np.bincount(checked, minlength=num_samples)
        self._set(checked, checked_masks, repeats.astype(np.int64), None,
                  per_item=True)

    def _set(self, indices: np.ndarray, item_masks: Optional[np.ndarray],
             repeats: np.ndarray, sample_masks: Optional[np.ndarray],
             per_item: bool) -> None:
        """Install a validated plan (both forms end here)."""
        self.repeats, self.masks = repeats, sample_masks
        self.extra_indices, self.extra_masks = indices, item_masks
        self._per_item = per_item
        if item_masks is None:
            self._items = indices.tolist()
        else:
            self._items = [(i, tuple(row)) for i, row in
                           zip(indices.tolist(), item_masks.tolist())]
        # Extra items grouped by sample, for 'weighted' mode's draws.
        self._by_sample = np.argsort(indices, kind='stable')
        self._starts = np.concatenate(
            [[0], np.cumsum(repeats - 1)]).astype(np.int64)
        self._update_sizes()

    def set_batch_size(self, batch_size: Optional[int]) -> None:
        """Tell the sampler the training batch size (see ``batch_size``)."""
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, int) or
                                       batch_size < 1):
            raise ValueError('ResamplingSampler.set_batch_size: expected a '
                             f'positive int or None, got {batch_size!r}')
        self.batch_size = batch_size
        self._update_sizes()

    def clear_plan(self) -> None:
        """Back to plain ``DefaultSampler`` behaviour."""
        self.repeats, self.masks = None, None
        self.extra_indices, self.extra_masks = None, None
        self._per_item, self._items = False, []
        self._update_sizes()

    @property
    def has_plan(self) -> bool:
        """Whether a plan is set."""
        return self.repeats is not None

    def extra_items(self) -> List[Item]:
        """The plan's extra items, in order (empty without a plan)."""
        return list(self._items)

    def plan_stats(self) -> Dict[str, object]:
        """What the current plan does to an epoch, for logging.

        Returns:
            ``epoch_length`` (all ranks, before padding), ``num_samples``
            (this rank), ``masked_fraction`` (share of items lacking a
            modality: exact in ``repeat`` mode, expected in ``weighted``
            mode) and ``repeat_histogram`` ``{repeat count: number of
            samples}``.
        """
        repeats = self.repeats if self.has_plan else np.ones(
            len(self.dataset), dtype=np.int64)
        masked = 0
        if self.extra_masks is not None:
            masked = int((~self.extra_masks.all(axis=1)).sum())
        counts, n_samples = np.unique(repeats, return_counts=True)
        return dict(
            mode=self.mode,
            epoch_length=self._epoch_length(),
            num_samples=self.num_samples,
            masked_fraction=float(masked / int(repeats.sum())),
            left_out=self._left_out,
            repeat_histogram={int(c): int(n)
                              for c, n in zip(counts, n_samples)})

    # ------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        """The plan as lists (``None`` without one), for a checkpoint.

        A per-sample plan is ``repeats`` and ``masks``; a per-item plan is
        ``extra_indices`` and ``extra_masks`` (its ``repeats`` are the
        derived counts, for reading only).
        """
        def listed(array):
            return None if array is None else array.tolist()

        return dict(
            repeats=listed(self.repeats),
            masks=listed(self.masks),
            extra_indices=listed(self.extra_indices)
            if self._per_item else None,
            extra_masks=listed(self.extra_masks) if self._per_item else None)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a plan saved by :meth:`state_dict` (validated again)."""
        if state_dict.get('extra_indices') is not None:
            self.set_extra_items(state_dict['extra_indices'],
                                 state_dict.get('extra_masks'))
        elif state_dict.get('repeats') is None:
            self.clear_plan()
        else:
            self.set_plan(state_dict['repeats'], state_dict.get('masks'))

    # ----------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[Item]:
        """This rank's slice of the epoch's global list."""
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        if not self.has_plan or self.mode == 'repeat':
            items = self._repeat_items(generator)
        else:
            items = self._weighted_items(generator)
        if self.round_up:
            items = (items * (self.total_size // len(items) + 1)
                     )[:self.total_size]
        return iter(items[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        """Number of items this rank yields under the current plan."""
        return self.num_samples

    def _repeat_items(self, generator: torch.Generator) -> List[Item]:
        """Each sample once, then the extra items; optionally shuffled.

        Without a plan this is ``DefaultSampler``'s list: the same
        ``randperm(N)`` on the same generator state.
        """
        items: List[Item] = list(range(len(self.dataset)))
        items += self._items[:len(self._items) - self._left_out]
        if self.shuffle:
            order = torch.randperm(len(items), generator=generator).tolist()
            items = [items[k] for k in order]
        return items

    def _weighted_items(self, generator: torch.Generator) -> List[Item]:
        """N draws with ``P(i)`` proportional to ``repeats[i]``."""
        repeats = torch.from_numpy(self.repeats).double()
        draws = torch.multinomial(repeats, len(repeats), replacement=True,
                                  generator=generator)
        if not self.shuffle:
            draws = draws.sort().values
        coins = torch.rand(len(draws), generator=generator,
                           dtype=torch.float64)
        extra = coins < (1 - 1 / repeats[draws])
        # Which of the drawn sample's extra items (drawn after the coins, so
        # a per-sample plan yields what it did before per-item plans).
        picks = torch.rand(len(draws), generator=generator,
                           dtype=torch.float64)
        out: List[Item] = []
        for i, is_extra, u in zip(draws.tolist(), extra.tolist(),
                                  picks.tolist()):
            if not is_extra or self.extra_masks is None:
                out.append(i)
                continue
            k = min(int(u * (self.repeats[i] - 1)), self.repeats[i] - 2)
            out.append(self._items[self._by_sample[self._starts[i] + k]])
        return out

    # ------------------------------------------------------------- helpers
    def _modalities(self) -> Optional[Sequence[str]]:
        metainfo = getattr(self.dataset, 'metainfo', None)
        if isinstance(metainfo, dict) and metainfo.get('modalities'):
            return tuple(metainfo['modalities'])
        return None

    def _epoch_length(self) -> int:
        """Items in the global list (all ranks) before padding."""
        if self.has_plan and self.mode == 'repeat':
            return int(self.repeats.sum()) - self._left_out
        return len(self.dataset)

    def _rank_counts(self, length: int) -> List[int]:
        """Items each rank yields for a global list of ``length`` items."""
        if self.round_up:
            return [math.ceil(length / self.world_size)]
        return [math.ceil((length - rank) / self.world_size)
                for rank in range(self.world_size)]

    def _fewest_left_out(self) -> int:
        """Fewest extra items to leave out so that no rank's last batch
        holds a single item (0 when none need to, or none would help)."""
        if not self.batch_size or self.batch_size < 2 or \
                not self.has_plan or self.mode != 'repeat':
            return 0
        full = len(self.dataset) + len(self._items)
        for left_out in range(len(self._items) + 1):
            if all(count % self.batch_size != 1
                   for count in self._rank_counts(full - left_out)):
                return left_out
        return 0

    def _update_sizes(self) -> None:
        """``num_samples`` and ``total_size`` as DefaultSampler computes them,
        for the current epoch length."""
        self._left_out = self._fewest_left_out()
        length = self._epoch_length()
        if self.round_up:
            self.num_samples = math.ceil(length / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (length - self.rank) / self.world_size)
            self.total_size = length

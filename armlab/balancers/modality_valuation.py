"""Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024).

"Enhancing Multi-modal Cooperation via Sample-level Modality Valuation";
configs/modality_valuation/README.md. After each epoch from the end of the
warm-up on, the model
is run in eval mode over the training split, and every sample's modalities
are valued by the Shapley value of a correctness game: a subset S of the
modalities is worth |S| when the fused head with only S present classifies
the sample correctly, else 0. A modality that contributes little to a sample
is then trained alone on extra copies of it in the next epoch:

* sample level: for each sample and each modality m separately, 0 to 3 extra
  copies with every *other* modality masked, more the lower phi_m;
* modality level: the mean values over a random subset give each modality's
  gap to its fair share; n copies of uniformly drawn samples mask the
  modality with the smaller gap, n growing with the gap difference.

Training itself is plain joint training (the base :class:`Balancer`): the
copies reach the model as data samples whose ``modality_mask`` hides a
modality, which the fusion fills. Everything epoch-level lives in
:class:`ModalityValuationHook`, which needs ``ResamplingSampler``.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.runner import Runner

from armlab.evaluation.valuation import (MAX_PLAYERS, shapley_values,
                                         subset_predictions)
from armlab.registry import HOOKS
from .sampling_plan_hook import SamplingPlanHook

Subset = Tuple[str, ...]

#: Extra copies per value of phi_m (sample level), lowest bin first:
#: (upper edge, closed upper edge, copies). phi < -0.1 -> 3,
#: -0.1 <= phi <= 0.4 -> 2, 0.4 < phi < 0.9 -> 1, phi >= 0.9 -> 0.
COPY_BINS = ((-0.1, False, 3), (0.4, True, 2), (0.9, False, 1),
             (np.inf, True, 0))

_LEVELS = ('sample', 'modality')
_FUNCS = ('linear', 'tanh', 'square')


# -- valuation ---------------------------------------------------------------
def correctness_game(correct: Mapping[Subset, torch.Tensor],
                     modalities: Sequence[str]) -> Dict[Subset, torch.Tensor]:
    """The game v(S) = |S| * 1[the S-only head is correct], v(()) = 0.

    For two modalities this is the paper's v(a,v) = 2*1[fused correct],
    v(m) = 1[z_m correct]; the factor |S| makes the full coalition worth M,
    so that each modality's fair share of a correct sample is 1.

    Args:
        correct: Every non-empty subset (tuple in model order) -> (B,) bool.
        modalities: The modalities, in model order.
    """
    values = {s: len(s) * c.float() for s, c in correct.items() if s}
    like = next(iter(values.values()))
    values[()] = torch.zeros_like(like)
    return values


def correctness_shapley(model, feats: Mapping[str, torch.Tensor],
                        labels: torch.Tensor) -> torch.Tensor:
    """Per-sample Shapley values (B, M) of the correctness game.

    One masked forward (``model.masked_logits`` through
    ``subset_predictions``) for the 2^M - 1 non-empty subsets; exact Shapley
    values for M <= 4. For M = 2, phi_a = (v(a) + v(a,v) - v(v)) / 2 with
    values in {-0.5, 0, 0.5, 1, 1.5}.
    """
    preds = subset_predictions(model, feats)
    labels = labels.to(next(iter(preds.values())).device)
    correct = {s: p == labels for s, p in preds.items()}
    phi = shapley_values(correctness_game(correct, model.modalities),
                         model.modalities)
    return torch.stack([phi[m] for m in model.modalities], dim=1)


# -- plans -------------------------------------------------------------------
def copies_from_shapley(phi: np.ndarray) -> np.ndarray:
    """Extra copies per value (the card's table, ``COPY_BINS``); NaN -> 0.

    The card's table leaves phi = -0.1, phi = 0.4 and 0.9 <= phi < 1
    unassigned; here they get 2, 2 and 0 copies (the official code gives all
    three 0 copies). The Shapley values of this game are multiples of 1/12
    for M <= 4, so -0.1 and 0.4 never occur; 0.9 <= phi < 1 occurs only for
    M = 4 (phi = 11/12).
    """
    phi = np.asarray(phi, dtype=float)
    copies = np.zeros(phi.shape, dtype=np.int64)
    lower = np.full(phi.shape, True)
    for edge, closed, count in COPY_BINS:
        below = (phi <= edge) if closed else (phi < edge)
        copies[lower & below] = count
        lower &= ~below
    copies[np.isnan(phi)] = 0
    return copies


def sample_level_items(phi: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Extra items of the sample-level method from per-sample values.

    Args:
        phi: (N, M) Shapley values; NaN where not valued (no copies).

    Returns:
        tuple: ``indices`` (E,) and ``masks`` (E, M): for each sample i and
        modality m, ``copies_from_shapley(phi[i, m])`` copies of i in which
        only m is present, ordered by sample, then modality.
    """
    phi = np.asarray(phi, dtype=float)
    if phi.ndim != 2:
        raise ValueError(f'phi must have shape (N, M), got {phi.shape}')
    num_samples, num_modalities = phi.shape
    copies = copies_from_shapley(phi).reshape(-1)
    cell = np.repeat(np.arange(num_samples * num_modalities), copies)
    alone = np.eye(num_modalities, dtype=bool)
    return cell // num_modalities, alone[cell % num_modalities]


def resample_count(gaps: np.ndarray, num_samples: int, alpha: float,
                   func: str = 'linear') -> int:
    """n = floor(f(|gap_a - gap_v|) * N), f(d) = (2/3) d alpha ('linear');
    'tanh': tanh((2/3) d alpha); 'square': ((2/3) d)^1.5 alpha (the
    official code's options)."""
    gaps = np.asarray(gaps, dtype=float)
    if gaps.shape != (2, ):
        raise ValueError('the modality-level method compares two '
                         f'modalities, got {gaps.shape[0]} gaps')
    d = abs(float(gaps[0] - gaps[1])) * 2 / 3
    if func == 'linear':
        rate = d * alpha
    elif func == 'tanh':
        rate = float(np.tanh(d * alpha))
    elif func == 'square':
        rate = d**1.5 * alpha
    else:
        raise ValueError(f'unknown func {func!r}; choose one of {_FUNCS}')
    return int(np.floor(rate * num_samples + 1e-9))


def modality_level_items(mean_phi: np.ndarray, num_samples: int,
                         alpha: float, rng: np.random.Generator,
                         func: str = 'linear'
                         ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extra items of the modality-level method.

    gap_m = 1 - mean phi_m (a modality's shortfall from its fair share);
    ``resample_count`` samples drawn uniformly with replacement; their copies
    mask the modality with the smaller gap (the first one on a tie, as the
    official code), so the other, weaker one trains alone.

    Returns:
        tuple: ``indices`` (n,), ``masks`` (n, 2) and ``gaps`` (2,).
    """
    mean_phi = np.asarray(mean_phi, dtype=float)
    gaps = 1.0 - mean_phi
    n = resample_count(gaps, num_samples, alpha, func)
    indices = rng.integers(0, num_samples, size=n)
    masks = np.ones((n, len(gaps)), dtype=bool)
    masks[:, int(np.argmin(gaps))] = False
    return indices, masks, gaps


# -- the hook ----------------------------------------------------------------
@HOOKS.register_module()
class ModalityValuationHook(SamplingPlanHook):
    """Valuation of the training set and modality-masked re-sampling.

    After every ``interval`` epochs from the end of epoch ``warmup_epochs -
    1`` on, it values training samples in eval mode with the test-time
    pipeline (``dataloader``), logs the values and sets the training
    sampler's extra items for the next epoch (replacing the last plan). The
    last epoch is valued too: its plan is logged and saved, and a run
    resumed beyond it starts with it (the frame, with checkpointing, is
    :class:`SamplingPlanHook`'s).

    Args:
        level: 'sample' (per-sample copies; values every training sample) or
            'modality' (values a random subset Z; two modalities only).
        dataloader: The valuation dataloader config, or the name of the
            top-level config key holding it.
        warmup_epochs: W; re-sampling starts at epoch W (0-based), the
            valuation runs at the end of epoch W - 1.
        interval: Value every ``interval`` epochs.
        part_ratio: |Z| / N for the modality level (drawn with replacement).
        alpha: Scale of the modality-level copy count.
        func: 'linear' (the paper), 'tanh' or 'square' (official options).
        seed: Seed of the subset and copy draws (with the epoch).
    """

    checkpoint_key = 'modality_valuation_hook'
    sampler_method = 'set_extra_items'

    def __init__(self,
                 level: str = 'sample',
                 dataloader='train_eval_dataloader',
                 warmup_epochs: int = 5,
                 interval: int = 1,
                 part_ratio: float = 0.2,
                 alpha: float = 1.0,
                 func: str = 'linear',
                 seed: int = 0):
        if level not in _LEVELS:
            raise ValueError(f'ModalityValuationHook: unknown level '
                             f'{level!r}, expected one of {_LEVELS}')
        if func not in _FUNCS:
            raise ValueError(f'ModalityValuationHook: unknown func {func!r}, '
                             f'expected one of {_FUNCS}')
        if not 0 < part_ratio <= 1:
            raise ValueError('ModalityValuationHook: part_ratio must be in '
                             f'(0, 1], got {part_ratio}')
        if warmup_epochs < 1:
            raise ValueError('ModalityValuationHook: warmup_epochs must be '
                             f'>= 1, got {warmup_epochs}')
        super().__init__(dataloader, warmup_epochs, interval)
        self.level = level
        self.part_ratio = part_ratio
        self.alpha = alpha
        self.func = func
        self.seed = seed

    def setup_model(self, model) -> None:
        modalities = model.modalities
        if self.level == 'modality' and len(modalities) != 2:
            raise ValueError(
                'ModalityValuationHook(level="modality") compares the gaps '
                f'of exactly two modalities, the model has {len(modalities)}'
                f' {modalities}; use level="sample", which works for up to '
                f'{MAX_PLAYERS}')
        if len(modalities) > MAX_PLAYERS:
            raise ValueError(
                f'ModalityValuationHook: exact Shapley values need M <= '
                f'{MAX_PLAYERS} modalities, the model has {modalities}')

    def extra_state(self) -> dict:
        return dict(level=self.level)

    def value_and_plan(self, runner: Runner, model, epoch: int) -> None:
        self._valuation.build(runner)
        n = self._valuation.num_samples
        sampler = runner.train_dataloader.sampler
        if n != len(sampler.dataset):
            raise ValueError(
                f'ModalityValuationHook: the valuation dataloader has {n} '
                f'samples but the training set has {len(sampler.dataset)}; '
                'both must read the same training split')
        rng = np.random.default_rng([self.seed, epoch])
        plan = self._sample_plan if self.level == 'sample' \
            else self._modality_plan
        indices, masks, scalars, valued = plan(model, n, rng)
        stats = self.apply_plan(
            runner, lambda sampler: sampler.set_extra_items(indices, masks))
        scalars['valuation/extra_copies'] = len(indices)
        scalars['valuation/masked_fraction'] = stats['masked_fraction']
        scalars['valuation/epoch_length'] = stats['epoch_length']
        scalars['valuation/left_out'] = stats['left_out']
        runner.visualizer.add_scalars(scalars, step=epoch + 1)
        runner.logger.info(
            f'Modality valuation ({self.level} level) after epoch '
            f'{epoch + 1} on {valued} training samples; plan for epoch '
            f'{epoch + 2}: ' + ', '.join(
                f'{k.split("/", 1)[1]}={v:.4g}' for k, v in scalars.items()))

    def _sample_plan(self, model, n: int, rng: np.random.Generator):
        """Copies per sample and modality from every sample's values."""
        phi = self.value(model)
        indices, masks = sample_level_items(phi)
        scalars: Dict[str, float] = {}
        for i, m in enumerate(model.modalities):
            scalars[f'valuation/shapley_{m}'] = float(np.nanmean(phi[:, i]))
            scalars[f'valuation/copies_{m}'] = int(masks[:, i].sum())
        return indices, masks, scalars, int((~np.isnan(phi).any(1)).sum())

    def _modality_plan(self, model, n: int, rng: np.random.Generator):
        """Copies of uniform draws from the mean values over a subset Z."""
        subset = rng.choice(n, max(1, int(n * self.part_ratio)),
                            replace=True)
        phi = self.value(model, subset)
        mean_phi = phi[subset].mean(axis=0)  # with multiplicity
        indices, masks, gaps = modality_level_items(mean_phi, n, self.alpha,
                                                    rng, self.func)
        scalars: Dict[str, float] = {}
        for i, m in enumerate(model.modalities):
            scalars[f'valuation/shapley_{m}'] = float(mean_phi[i])
            scalars[f'valuation/gap_{m}'] = float(gaps[i])
            scalars[f'valuation/masked_{m}'] = int((~masks[:, i]).sum())
        return indices, masks, scalars, len(subset)

    @torch.no_grad()
    def value(self, model, indices: Optional[np.ndarray] = None
              ) -> np.ndarray:
        """(N, M) correctness-game Shapley values; NaN where not valued."""
        rows = self._valuation.run(
            model,
            lambda feats, labels, samples: correctness_shapley(
                model, feats, labels).tolist(),
            indices)
        n = self._valuation.num_samples
        phi = np.full((n, len(model.modalities)), np.nan)
        index = np.array([r[0] for r in rows], dtype=np.int64)
        phi[index] = np.array([r[1] for r in rows], dtype=float)
        self._phi = phi
        return phi.copy()

"""RL-MBA-style acquisition: a learned policy over acquisition criteria.

A **reconstruction** of the idea in "Label What Matters" (arXiv 2603.25107),
whose state, action, reward and update are not public: everything below is
armlab's own design (docs/active_learning.md), never to be reported as RL-MBA.

Each pool item gets four criteria, rank-normalised to [0, 1] within the
pool: uncertainty (fused entropy or BALD), difficulty (the evidential u or
C; 1 - max p when the fusion forms no opinions), diversity (distance of
z_mm to the nearest labelled item) and balance z_bal(ω) = Σ_m ω_m c_m (BMMAL
contribution shares). Every round a small MLP reads a summary of the run
(state) and parameterises two Dirichlets, one over the criteria weights w
and one over the modality weights ω (AMCB). The batch is the top-2b by
w · z, refined to b by k-center greedy. Once the next model is evaluated,
the reward r = ΔAcc_val + λ Bal_val updates the MLP by REINFORCE with an
EMA baseline and an entropy bonus. With a handful of rounds per run the
policy learns little within one run: ``policy_path`` carries θ across runs.
"""
import copy
import math
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import nn
from torch.distributions import Dirichlet

from armlab.registry import ACQUISITION_STRATEGIES
from .base import AcquisitionContext, AcquisitionStrategy
from .bald import bald_scores
from .bmmal import bmmal_shares, dominant_modality
from .coreset import kcenter_greedy, nearest_distances
from .evidential import CRITERIA as DIFFICULTIES
from .evidential import difficulty_scores, has_opinions
from .uncertainty import entropy_scores

#: The criteria the weights w mix, in order.
CRITERIA = ('unc', 'dif', 'div', 'bal')
UNCERTAINTIES = ('entropy', 'bald')
BALANCES = ('share_gap', 'share_entropy', 'acc_gap')
REFINES = ('kcenter', 'topk')
#: Floor of the Dirichlet concentrations, and of a drawn weight (so that
#: its log-density stays finite).
MIN_CONCENTRATION = 1e-3
MIN_WEIGHT = 1e-8


def rank_normalise(scores) -> torch.Tensor:
    """Ranks scaled to [0, 1] (ties share their mean rank), float64.

    Rank scaling makes criteria of any unit and spread comparable; a pool
    of one item maps to 0.
    """
    # scipy.stats here, not at the top: it is a second of every process's
    # start-up (``register_all_modules`` imports this module).
    from scipy.stats import rankdata
    scores = np.asarray(torch.as_tensor(scores).detach().cpu().double())
    if len(scores) < 2:
        return torch.zeros(len(scores), dtype=torch.float64)
    return torch.from_numpy((rankdata(scores) - 1) / (len(scores) - 1))


def _quartile_summary(x: torch.Tensor) -> List[float]:
    """Mean and 25/50/75 % quantiles of a 1-D tensor."""
    x = x.double()
    q = torch.quantile(x, x.new_tensor([0.25, 0.5, 0.75]))
    return [float(x.mean()), *map(float, q)]


def _read(metrics: Dict[str, float], *keys: str,
          default: Optional[float] = None) -> Optional[float]:
    """The first of ``keys`` in ``metrics`` (canonical name, then the
    metric's own), else ``default``."""
    for key in keys:
        if key in metrics:
            return float(metrics[key])
    return default


class DirichletPolicy(nn.Module):
    """s -> concentrations of Dir(w) over the criteria and Dir(ω) over the
    modalities: softplus(MLP(s)) + 1e-3, the MLP two hidden layers wide."""

    def __init__(self, state_dim: int, num_criteria: int,
                 num_modalities: int, hidden: int = 64):
        super().__init__()
        self.num_criteria = num_criteria
        self.body = nn.Sequential(
            nn.Linear(state_dim, hidden), nn.Tanh(),
            nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, num_criteria + num_modalities))

    def forward(self, state: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        conc = F.softplus(self.body(state)) + MIN_CONCENTRATION
        return conc[..., :self.num_criteria], conc[..., self.num_criteria:]

    def distributions(self, state: torch.Tensor
                      ) -> Tuple[Dirichlet, Dirichlet]:
        conc_w, conc_omega = self(state)
        return Dirichlet(conc_w), Dirichlet(conc_omega)

    def log_prob(self, state: torch.Tensor, w: torch.Tensor,
                 omega: torch.Tensor) -> torch.Tensor:
        """log π(w, ω | s): the two Dirichlets are independent given s."""
        dist_w, dist_omega = self.distributions(state)
        return dist_w.log_prob(w) + dist_omega.log_prob(omega)


@ACQUISITION_STRATEGIES.register_module(
    name=['rl_policy', 'RLPolicyStrategy'])
class RLPolicyStrategy(AcquisitionStrategy):
    """RL-MBA-style learned acquisition policy (armlab's reconstruction).

    Args:
        uncertainty: z_unc: ``'entropy'`` (fused) or ``'bald'``.
        bald_passes: MC-dropout passes for BALD.
        difficulty: z_dif: the evidential ``'uncertainty'``, ``'conflict'``
            or ``'mix'`` (see :class:`EvidentialStrategy`); 1 - max p when
            the fusion is not evidential.
        mix_weight: Weight of C in the ``'mix'`` difficulty.
        refine: ``'kcenter'`` (top-``candidate_factor``·b, then k-center
            greedy to b) or ``'topk'`` (plain top-b).
        candidate_factor: Candidates per budget item before the refinement.
        balance: Bal of the reward, on validation metrics (percentages
            scaled to [0, 1]): ``'share_gap'`` = -(max - min) of the
            Shapley shares of accuracy ``shapley_share_<m>`` (−|c̄_a − c̄_v|
            for two modalities), ``'share_entropy'`` = their entropy / log M,
            ``'acc_gap'`` = -(max - min) masked accuracy ``acc_<m>_mask``.
        balance_weight: λ of r = ΔAcc_val + λ·Bal_val.
        lr: Adam learning rate η of the policy.
        baseline_momentum: EMA factor of the reward baseline b̄.
        entropy_coef: Weight of the policy-entropy bonus.
        hidden: Width of the two hidden layers.
        policy_path: File with θ (and optimiser, baseline) from earlier
            episodes: loaded when the policy is first built, rewritten
            after every update. A resumed run's own state wins over it.
    """

    def __init__(self,
                 uncertainty: str = 'entropy',
                 bald_passes: int = 10,
                 difficulty: str = 'uncertainty',
                 mix_weight: float = 0.5,
                 refine: str = 'kcenter',
                 candidate_factor: int = 2,
                 balance: str = 'share_gap',
                 balance_weight: float = 1.0,
                 lr: float = 1e-3,
                 baseline_momentum: float = 0.9,
                 entropy_coef: float = 0.01,
                 hidden: int = 64,
                 policy_path: Optional[str] = None):
        for name, value, allowed in (
                ('uncertainty', uncertainty, UNCERTAINTIES),
                ('difficulty', difficulty, DIFFICULTIES),
                ('refine', refine, REFINES), ('balance', balance, BALANCES)):
            if value not in allowed:
                raise ValueError(f'RLPolicyStrategy: unknown {name} '
                                 f'{value!r}; choose one of {allowed}')
        if candidate_factor < 1:
            raise ValueError('RLPolicyStrategy: candidate_factor must be >= '
                             f'1, got {candidate_factor}')
        if not 0 <= baseline_momentum < 1:
            raise ValueError('RLPolicyStrategy: baseline_momentum must lie '
                             f'in [0, 1), got {baseline_momentum}')
        self.uncertainty = uncertainty
        self.bald_passes = bald_passes
        self.difficulty = difficulty
        self.mix_weight = mix_weight
        self.refine = refine
        self.candidate_factor = candidate_factor
        self.balance = balance
        self.balance_weight = balance_weight
        self.lr = lr
        self.baseline_momentum = baseline_momentum
        self.entropy_coef = entropy_coef
        self.hidden = hidden
        self.policy_path = policy_path
        self.policy: Optional[DirichletPolicy] = None
        self.optimizer: Optional[torch.optim.Optimizer] = None
        self.baseline = 0.0
        self.num_updates = 0
        self.prev_action: Optional[torch.Tensor] = None
        self.prev_reward = 0.0
        self.pending: Optional[Dict[str, Any]] = None
        self.history: List[Dict[str, Any]] = []
        self._noted_fallback = False

    # -- per-sample criteria ------------------------------------------------
    def signals(self, ctx: AcquisitionContext) -> Dict[str, torch.Tensor]:
        """Raw per-item signals of the pool (float64, (N,) unless noted):
        ``entropy``, ``unc``, ``dif``, ``conflict``, ``div`` and
        ``shares`` (N, M)."""
        pool = ctx.pool
        entropy = entropy_scores(pool.probs)
        if self.uncertainty == 'bald':
            if ctx.mc_probs is None:
                raise ValueError("RLPolicyStrategy(uncertainty='bald') needs "
                                 'ctx.mc_probs (MC-dropout passes)')
            unc = bald_scores(ctx.mc_probs(self.bald_passes))
        else:
            unc = entropy
        if has_opinions(pool):
            dif = difficulty_scores(pool, self.difficulty, self.mix_weight)
            conflict = pool.evidential['conflict'].double()
        else:
            if not self._noted_fallback:
                print_log('RLPolicyStrategy: the fusion forms no evidential '
                          'opinions; the difficulty criterion falls back to '
                          "1 - max p (set model.fusion.type='EvidentialFusion'"
                          ' for u / C)', logger='current')
                self._noted_fallback = True
            dif = 1 - pool.probs.double().max(dim=1).values
            conflict = torch.zeros_like(dif)
        shares = bmmal_shares(pool.subset_probs, pool.predictions,
                              pool.modalities)[0]
        return dict(entropy=entropy, unc=unc.double(), dif=dif,
                    conflict=conflict, div=self._diversity(ctx),
                    shares=shares.double())

    @staticmethod
    def _diversity(ctx: AcquisitionContext) -> torch.Tensor:
        """Distance of each pool z_mm to its nearest labelled z_mm (1 for
        every item when nothing is labelled)."""
        labelled = ctx.labelled_outputs
        if labelled is None or len(labelled.indices) == 0:
            return torch.ones(len(ctx.unlabelled), dtype=torch.float64)
        return nearest_distances(ctx.pool.embedding, labelled.embedding)

    @staticmethod
    def criteria(signals: Dict[str, torch.Tensor],
                 omega: torch.Tensor) -> torch.Tensor:
        """(N, 4) rank-normalised z_unc, z_dif, z_div, z_bal(ω)."""
        z_bal = signals['shares'] @ omega.double()
        return torch.stack([
            rank_normalise(signals['unc']), rank_normalise(signals['dif']),
            rank_normalise(signals['div']), rank_normalise(z_bal)
        ], dim=1)

    # -- the state ----------------------------------------------------------
    def state(self, ctx: AcquisitionContext,
              signals: Dict[str, torch.Tensor]) -> torch.Tensor:
        """s_t (float64): progress, validation accuracy (fused, masked per
        modality), mean shares and their gap, pool statistics (mean and
        quartiles of H / log K, difficulty, C, distance / max distance),
        the fraction of items each modality dominates, the previous action
        and reward. Missing validation metrics read as 0 (shares 1/M)."""
        modalities = ctx.pool.modalities
        num_m = len(modalities)
        num_pool = len(ctx.unlabelled)
        metrics = ctx.val_metrics
        shares = [_read(metrics, f'share_{m}', f'shapley_share_{m}',
                        default=100.0 / num_m) / 100 for m in modalities]
        num_classes = ctx.pool.probs.shape[1]
        div = signals['div']
        dominated = torch.bincount(dominant_modality(signals['shares']),
                                   minlength=num_m).double() / num_pool
        prev = self.prev_action if self.prev_action is not None else \
            torch.zeros(len(CRITERIA) + num_m, dtype=torch.float64)
        features = [
            ctx.round / max(ctx.num_rounds, 1),
            len(ctx.labelled) / (len(ctx.labelled) + num_pool),
            _read(metrics, 'top1', 'accuracy/top1', default=0.0) / 100,
            *[_read(metrics, f'acc_{m}', f'acc_{m}_mask', default=0.0) / 100
              for m in modalities],
            *shares, max(shares) - min(shares),
            *_quartile_summary(signals['entropy'] / math.log(num_classes)),
            *_quartile_summary(signals['dif']),
            *_quartile_summary(signals['conflict']),
            *_quartile_summary(div / div.max().clamp(min=1e-12)),
            *dominated.tolist(), *prev.tolist(), self.prev_reward
        ]
        return torch.tensor(features, dtype=torch.float64)

    # -- the policy ---------------------------------------------------------
    def _build_policy(self, state_dim: int, num_modalities: int,
                      seed: int) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = DirichletPolicy(state_dim, len(CRITERIA),
                                          num_modalities,
                                          self.hidden).double()
        self.optimizer = torch.optim.Adam(self.policy.parameters(),
                                          lr=self.lr)

    def _ensure_policy(self, state_dim: int, num_modalities: int,
                       rng: np.random.Generator) -> None:
        """Build θ on first use (seeded from ``ctx.rng``), then take the
        one trained in earlier episodes where ``policy_path`` has it."""
        if self.policy is None:
            self._build_policy(state_dim, num_modalities,
                               int(rng.integers(2**31 - 1)))
            if self.policy_path and osp.isfile(self.policy_path):
                self._load_policy_file(state_dim, num_modalities)
        dims = (self.policy.body[0].in_features,
                self.policy.body[-1].out_features - len(CRITERIA))
        if dims != (state_dim, num_modalities):
            raise ValueError(
                f'RLPolicyStrategy: the policy was built for (state '
                f'{dims[0]}, {dims[1]} modalities), this round has (state '
                f'{state_dim}, {num_modalities} modalities)')

    def _policy_state(self) -> Dict[str, Any]:
        return dict(state_dim=self.policy.body[0].in_features,
                    num_modalities=self.policy.body[-1].out_features -
                    len(CRITERIA),
                    policy=self.policy.state_dict(),
                    optimizer=self.optimizer.state_dict(),
                    baseline=self.baseline, num_updates=self.num_updates)

    def _load_policy_state(self, state: Dict[str, Any]) -> None:
        self.policy.load_state_dict(state['policy'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.baseline = float(state['baseline'])
        self.num_updates = int(state['num_updates'])

    def _load_policy_file(self, state_dim: int, num_modalities: int) -> None:
        saved = torch.load(self.policy_path, weights_only=False)
        if (saved['state_dim'], saved['num_modalities']) != (state_dim,
                                                             num_modalities):
            raise ValueError(
                f'{self.policy_path}: policy for (state '
                f"{saved['state_dim']}, {saved['num_modalities']} "
                f'modalities), this run needs (state {state_dim}, '
                f'{num_modalities} modalities)')
        self._load_policy_state(saved)
        print_log(f'RLPolicyStrategy: loaded θ from {self.policy_path} '
                  f"({saved['num_updates']} updates)", logger='current')

    def _save_policy_file(self) -> None:
        folder = osp.dirname(osp.abspath(self.policy_path))
        os.makedirs(folder, exist_ok=True)
        tmp = f'{self.policy_path}.tmp'
        torch.save(self._policy_state(), tmp)
        os.replace(tmp, self.policy_path)

    def sample_action(self, state: torch.Tensor, rng: np.random.Generator
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(w, ω) ~ π_θ(·|s), drawn with ``rng`` (numpy) for determinism."""
        with torch.no_grad():
            conc_w, conc_omega = self.policy(state)
        return (self._draw(conc_w, rng), self._draw(conc_omega, rng))

    @staticmethod
    def _draw(concentration: torch.Tensor,
              rng: np.random.Generator) -> torch.Tensor:
        x = rng.dirichlet(concentration.numpy().astype(np.float64))
        x = np.maximum(np.nan_to_num(x, nan=0.0), MIN_WEIGHT)
        return torch.from_numpy(x / x.sum())

    def reinforce(self, state: torch.Tensor, w: torch.Tensor,
                  omega: torch.Tensor, reward: float) -> Dict[str, float]:
        """One REINFORCE step: ascend (r − b̄) log π(a|s) + β H(π(·|s)),
        then move the baseline b̄ towards r."""
        advantage = reward - self.baseline
        dist_w, dist_omega = self.policy.distributions(state)
        log_prob = dist_w.log_prob(w) + dist_omega.log_prob(omega)
        entropy = dist_w.entropy() + dist_omega.entropy()
        loss = -advantage * log_prob - self.entropy_coef * entropy
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.baseline = (self.baseline_momentum * self.baseline +
                         (1 - self.baseline_momentum) * reward)
        self.num_updates += 1
        return dict(advantage=advantage, log_prob=float(log_prob.detach()),
                    entropy=float(entropy.detach()))

    # -- the strategy contract ---------------------------------------------
    def select(self, ctx: AcquisitionContext, budget: int) -> np.ndarray:
        modalities = ctx.pool.modalities
        if len(modalities) < 2:
            raise ValueError('RLPolicyStrategy balances modalities: it needs '
                             f'at least two, got {modalities}')
        if budget > len(ctx.unlabelled):
            raise ValueError(f'RLPolicyStrategy: budget {budget} exceeds the '
                             f'pool of {len(ctx.unlabelled)} items')
        signals = self.signals(ctx)
        state = self.state(ctx, signals)
        self._ensure_policy(len(state), len(modalities), ctx.rng)
        w, omega = self.sample_action(state, ctx.rng)
        score = self.criteria(signals, omega) @ w
        order = np.argsort(-score.numpy(), kind='stable')
        if self.refine == 'kcenter':
            candidates = order[:min(len(order), self.candidate_factor *
                                    budget)]
            labelled = ctx.labelled_outputs.embedding \
                if ctx.labelled_outputs is not None else \
                ctx.pool.embedding[:0]
            picks = candidates[kcenter_greedy(
                ctx.pool.embedding[torch.from_numpy(candidates)], labelled,
                budget)]
        else:
            picks = order[:budget]
        self.pending = dict(
            round=ctx.round, state=state, w=w, omega=omega,
            acc_before=_read(ctx.val_metrics, 'top1', 'accuracy/top1',
                             default=0.0) / 100)
        print_log(f'RLPolicyStrategy round {ctx.round}: w('
                  + ', '.join(f'{c}={v:.3f}' for c, v in zip(CRITERIA, w))
                  + ') ω(' + ', '.join(f'{m}={v:.3f}'
                                       for m, v in zip(modalities, omega))
                  + ')', logger='current')
        return np.asarray(ctx.unlabelled)[picks]

    def reward(self, metrics: Dict[str, float], modalities,
               acc_before: float) -> Tuple[float, float]:
        """(r, Bal) from the validation metrics of the model trained on the
        selection: r = (Acc − Acc_before) + λ Bal, accuracies in [0, 1]."""
        acc = _read(metrics, 'top1', 'accuracy/top1')
        if acc is None:
            raise KeyError('RLPolicyStrategy: the reward needs the fused '
                           "validation accuracy ('top1' or "
                           f"'accuracy/top1'); got {sorted(metrics)}")
        kind = 'share' if self.balance.startswith('share') else 'acc'
        keys = {m: ((f'share_{m}', f'shapley_share_{m}') if kind == 'share'
                    else (f'acc_{m}', f'acc_{m}_mask')) for m in modalities}
        values = [_read(metrics, *keys[m]) for m in modalities]
        if any(v is None for v in values):
            raise KeyError(f'RLPolicyStrategy: balance {self.balance!r} '
                           f'needs the validation metrics {keys}; got '
                           f'{sorted(metrics)}')
        values = np.asarray(values) / 100
        if self.balance == 'share_entropy':
            p = values / values.sum() if values.sum() > 0 else \
                np.full(len(values), 1 / len(values))
            bal = float(-(p * np.log(np.clip(p, 1e-12, None))).sum() /
                        math.log(len(p)))
        else:
            bal = -float(values.max() - values.min())
        return acc / 100 - acc_before + self.balance_weight * bal, bal

    def observe(self, ctx: AcquisitionContext,
                metrics: Dict[str, float]) -> None:
        """Reward the last selection with ``metrics``, the validation
        metrics of the model trained on it, and update θ."""
        if self.pending is None:
            print_log('RLPolicyStrategy: feedback without a pending '
                      'selection; nothing to update', logger='current')
            return
        pending = self.pending
        reward, bal = self.reward(metrics, ctx.pool.modalities,
                                  pending['acc_before'])
        info = self.reinforce(pending['state'], pending['w'],
                              pending['omega'], reward)
        self.prev_action = torch.cat([pending['w'], pending['omega']])
        self.prev_reward = reward
        self.pending = None
        record = dict(round=pending['round'], reward=reward, balance=bal,
                      baseline=self.baseline, w=pending['w'].tolist(),
                      omega=pending['omega'].tolist(), **info)
        self.history.append(record)
        print_log(f"RLPolicyStrategy round {pending['round']}: reward "
                  f'{reward:.4f} (balance {bal:.4f}, advantage '
                  f"{info['advantage']:.4f})", logger='current')
        if self.policy_path:
            self._save_policy_file()

    def state_dict(self) -> Dict[str, Any]:
        state = dict(baseline=self.baseline, num_updates=self.num_updates,
                     prev_action=self.prev_action,
                     prev_reward=self.prev_reward, pending=self.pending,
                     history=list(self.history))
        if self.policy is not None:
            state.update(self._policy_state())
        # A copy: the optimiser's state_dict shares its live moment tensors.
        return copy.deepcopy(state)

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        if not state:
            return
        if 'policy' in state:
            self._build_policy(state['state_dim'], state['num_modalities'],
                               seed=0)
            self._load_policy_state(state)
        self.baseline = float(state['baseline'])
        self.num_updates = int(state['num_updates'])
        self.prev_action = state['prev_action']
        self.prev_reward = float(state['prev_reward'])
        self.pending = state['pending']
        self.history = list(state['history'])

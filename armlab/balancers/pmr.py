"""PMR: Prototypical Modal Rebalance.

Fan et al., CVPR 2023 (configs/pmr/README.md). Every
modality has class prototypes c_m^k, the mean feature of class k. The
prototype classifier p_m(k | x) = softmax_k(-||h_m - c_m^k||) measures how
well each modality separates the classes on its own; inside the modulation
window the modality that does it worse (smaller sum of p_m(y) over the
batch) gets the prototypical cross-entropy alpha * CE(-d(h_m, c_m), y),
which pulls its features towards its own class prototypes and so trains
its encoder, whatever the fused head has learned to rely on.

Prototypes are computed by :class:`PMRHook` without gradient, in eval mode,
on a fraction of the *training* split read with the test pipeline: before
training (from the initial model, as the official code does) and after every
epoch, blended as c <- (1 - mu) c_new + mu c_old. They are buffers of the
balancer, so checkpoints carry them and a resumed run goes on with them.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.registry import HOOKS, MODELS
from .base import Balancer, unwrap_model


def prototype_logits(feats: torch.Tensor,
                     prototypes: torch.Tensor) -> torch.Tensor:
    """Logits -||h - c_k|| of the prototype classifier, (B, K).

    The distance is Euclidean, not squared, as in the official code; the
    direct difference (no ``||h||^2 - 2 h.c + ||c||^2`` shortcut) keeps it
    exact and its gradient finite near a prototype.
    """
    return -torch.cdist(feats.float(), prototypes.float(),
                        compute_mode='donot_use_mm_for_euclid_dist')


def class_sums(feats: torch.Tensor, labels: torch.Tensor,
               num_classes: int):
    """Per-class feature sums (K, D) and sample counts (K,)."""
    sums = feats.new_zeros(num_classes, feats.shape[1])
    sums.index_add_(0, labels, feats)
    counts = torch.bincount(labels, minlength=num_classes).to(feats)
    return sums, counts


def blend_prototypes(old: Optional[torch.Tensor], sums: torch.Tensor,
                     counts: torch.Tensor, momentum: float) -> torch.Tensor:
    """c <- (1 - mu) c_new + mu c_old, with c_new the class means.

    A class without a sample in the pass keeps its old prototype (zero if
    it has none yet); with no old prototypes, c = c_new.
    """
    seen = counts > 0
    new = sums / counts.clamp_min(1).unsqueeze(1)
    if old is None:
        return new
    blended = (1 - momentum) * new + momentum * old
    return torch.where(seen.unsqueeze(1), blended, old)


def weak_modality_coefficients(scores: torch.Tensor,
                               alpha: float) -> torch.Tensor:
    """The PCE coefficient of each modality from its summed probability.

    Every modality whose sum of p_m(y) is below the mean over modalities
    gets ``alpha``, the others 0. For two modalities this is the card's
    rule: (beta, lambda) = (0, alpha) if rho > 1, (alpha, 0) if rho < 1,
    (0, 0) if rho = 1, with rho = sum p_a(y) / sum p_v(y).
    """
    return (scores < scores.mean()).to(scores.dtype) * alpha


@MODELS.register_module()
class PMRBalancer(Balancer):
    """PMR's per-step part: the prototypical CE on the weak modality.

    Args:
        alpha: Coefficient of the prototypical CE.
        start_epoch: First epoch of the modulation window.
        end_epoch: The window ends before this epoch (None: never ends);
            71 by default, the official epochs 0-70 inclusive.
        momentum: mu, the weight of the old prototypes in the blend.
    """

    def __init__(self,
                 alpha: float = 2.0,
                 start_epoch: int = 0,
                 end_epoch: Optional[int] = 71,
                 momentum: float = 0.0):
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f'PMRBalancer momentum must be in [0, 1), got '
                             f'{momentum}')
        self.alpha = alpha
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.momentum = momentum
        # How many prototype passes have been blended in; also tells the
        # device on which to create the per-modality prototype buffers.
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))

    # -- prototypes (buffers ``prototypes_<m>``, created on first update) -----
    def prototypes(self, modality: str) -> Optional[torch.Tensor]:
        """The (K, D) prototypes of ``modality``, None before the first pass."""
        return getattr(self, f'prototypes_{modality}', None)

    def has_prototypes(self, modalities) -> bool:
        return all(self.prototypes(m) is not None for m in modalities)

    @torch.no_grad()
    def update_prototypes(self, sums: Dict[str, torch.Tensor],
                          counts: torch.Tensor) -> None:
        """Blend the class means of a prototype pass into the prototypes."""
        for m, s in sums.items():
            old = self.prototypes(m)
            new = blend_prototypes(old, s.float(), counts.float(),
                                   self.momentum)
            new = new.to(self.num_updates.device)
            if old is None:
                self.register_buffer(f'prototypes_{m}', new)
            else:
                old.copy_(new)
        self.num_updates += 1

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The prototype buffers are sized by the first pass; a fresh model
        # (resume, test) creates them from the checkpoint so they load.
        for key, value in state_dict.items():
            name = key[len(prefix):]
            if key.startswith(prefix + 'prototypes_') and '.' not in name \
                    and self.prototypes(name[len('prototypes_'):]) is None:
                self.register_buffer(
                    name, torch.empty_like(value,
                                           device=self.num_updates.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- balancer interface ---------------------------------------------------
    def losses(self, model, feats, logits, data_samples, losses):
        if not self.has_prototypes(model.modalities):
            raise RuntimeError(
                'PMRBalancer has no prototypes: add PMRHook to custom_hooks, '
                'it computes them before training and after every epoch')
        labels = self.labels(data_samples).to(logits.device)
        proto_logits = {
            m: prototype_logits(feats[m], self.prototypes(m).to(logits.device))
            for m in model.modalities
        }
        with torch.no_grad():
            scores = torch.stack([
                F.softmax(z, 1).gather(1, labels[:, None]).sum()
                for z in proto_logits.values()
            ])
            # One decision for all ranks of a distributed run.
            if get_world_size() > 1:
                all_reduce(scores, op='sum')
        active = self.in_window(self.current_epoch(), self.start_epoch,
                                self.end_epoch)
        coeffs = weak_modality_coefficients(scores, self.alpha) if active \
            else torch.zeros_like(scores)
        weak = [i for i, m in enumerate(model.modalities) if coeffs[i] > 0]
        if weak:
            losses['loss_pce'] = sum(
                coeffs[i] * F.cross_entropy(
                    proto_logits[model.modalities[i]], labels)
                for i in weak)
        if len(model.modalities) == 2:
            losses['pmr_ratio'] = scores[0] / scores[1].clamp_min(1e-12)
        total = labels.numel() * max(get_world_size(), 1)
        for i, m in enumerate(model.modalities):
            losses[f'pmr_prob_{m}'] = scores[i] / total
            losses[f'pmr_coeff_{m}'] = coeffs[i]
        return losses


@HOOKS.register_module()
class PMRHook(Hook):
    """Computes PMR's prototypes on training data.

    Before training (from the initial model, unless a checkpoint brought
    prototypes) and after every epoch, it runs the model in eval mode and
    without gradient over a random ``fraction`` of the training split read
    with the test pipeline (``dataloader``), and blends the class means of
    the features into the balancer's prototypes. A new subset is drawn every
    pass (seeded by ``seed`` and the epoch); ranks split it and their sums
    are all-reduced. The validation and test splits are refused: prototypes
    are part of training.

    Args:
        dataloader: The train split with the test pipeline: its config, or
            the name of a top-level config key holding it.
        fraction: Share of the training split used per pass (official: the
            first 10 % of the training batches).
        seed: Seed of the subset draws.
    """

    priority = 'NORMAL'  # before the CheckpointHook saves the epoch

    def __init__(self, dataloader='train_eval_dataloader',
                 fraction: float = 0.1, seed: int = 0):
        if not 0 < fraction <= 1:
            raise ValueError(f'PMRHook fraction must be in (0, 1], got '
                             f'{fraction}')
        self._valuation = TrainingSetValuation(dataloader, owner='PMRHook')
        self.fraction = fraction
        self.seed = seed

    def before_train(self, runner: Runner) -> None:
        model = unwrap_model(runner.model)
        if not isinstance(model.balancer, PMRBalancer):
            raise TypeError('PMRHook needs model.balancer = PMRBalancer, got '
                            f'{type(model.balancer).__name__}')
        if not model.balancer.has_prototypes(model.modalities):
            self.update(runner, model, after_epoch=0)

    def after_train_epoch(self, runner: Runner) -> None:
        self.update(runner, unwrap_model(runner.model), after_epoch=runner.epoch + 1)

    # -- the prototype pass ---------------------------------------------------
    def _subset_loader(self, runner: Runner, epoch: int) -> DataLoader:
        """This rank's share of a random ``fraction`` of the training set."""
        if self._valuation.loader is None:
            cfg = self._valuation.dataloader_cfg
            if isinstance(cfg, str):
                cfg = train_eval_loader_cfg(runner.cfg, key=cfg)
            split = None if cfg is None else \
                cfg.get('dataset', {}).get('split', 'train')
            if split not in (None, 'train'):
                raise ValueError(
                    f'PMRHook computes prototypes on training data only, but '
                    f'its dataloader reads the {split!r} split; leave '
                    'dataloader unset (the train split, test pipeline)')
        self._valuation.build(runner)
        indices = self._valuation.subset_indices(
            self._valuation.num_samples, self.fraction, self.seed + epoch)
        return self._valuation.subset_loader(indices)

    @torch.no_grad()
    def class_feature_sums(self, runner: Runner, model, epoch: int):
        """Per-modality class sums (K, D) and class counts over the pass."""
        loader = self._subset_loader(runner, epoch)
        was_training = model.training
        model.eval()
        sums: Dict[str, torch.Tensor] = {}
        counts = None
        try:
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                feats = model.extract_feat(data['inputs'])
                labels = Balancer.labels(data['data_samples'])
                for m in model.modalities:
                    s, c = class_sums(feats[m].float(),
                                      labels.to(feats[m].device),
                                      model.num_classes)
                    sums[m] = s if m not in sums else sums[m] + s
                counts = c if counts is None else counts + c
        finally:
            model.train(was_training)
        if counts is None:  # an empty shard (more ranks than samples)
            device = model.balancer.num_updates.device
            counts = torch.zeros(model.num_classes, device=device)
            sums = {m: torch.zeros(model.num_classes,
                                   model.encoders[m].out_channels,
                                   device=device) for m in model.modalities}
        if get_world_size() > 1:
            for tensor in (counts, *sums.values()):
                all_reduce(tensor, op='sum')
        return sums, counts

    def update(self, runner: Runner, model, after_epoch: int) -> None:
        balancer = model.balancer
        old = {m: balancer.prototypes(m) for m in model.modalities}
        old = {m: None if c is None else c.clone() for m, c in old.items()}
        sums, counts = self.class_feature_sums(runner, model, after_epoch)
        balancer.update_prototypes(sums, counts)
        missing = [k for k in range(model.num_classes) if counts[k] == 0]
        scalars = {'pmr/prototype_samples': int(counts.sum())}
        for m in model.modalities:
            if old[m] is not None:
                shift = (balancer.prototypes(m) - old[m]).norm(dim=1).mean()
                scalars[f'pmr/prototype_shift_{m}'] = float(shift)
        runner.visualizer.add_scalars(scalars, step=after_epoch)
        when = 'before training' if after_epoch == 0 else \
            f'after epoch {after_epoch}'
        runner.logger.info(
            f'PMR prototypes {when} from {int(counts.sum())} training '
            'samples' + (f'; classes without a sample keep their old '
                         f'prototype: {missing}' if missing else ''))

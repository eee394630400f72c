"""DI-MML: Detached and Interactive Multimodal Learning.

Fan et al., ACM MM 2024 (configs/dimml/README.md). Competition between
modalities comes from the fused loss, so DI-MML never trains the encoders on
one. In one run of ``max_epochs``:

* **Detached stage** (epochs < ``fusion_epoch``): each encoder trains with
  its own head and a head C shared by the modalities,

      L = sum_m CE(H_m h_m, y) + w * sum_m CE(C h_m, y) [+ lambda * L_DUC],

  where, from epoch ``duc_epoch``, the dimension-wise uncertainty
  contrast L_DUC lets each modality learn what only another one knows: at
  that epoch :class:`DIMMLHook` finds, per modality, the feature dimensions
  whose nearest-class-mean accuracy is above that modality's mean
  (:func:`discriminative_dims`), and D_m^only, those of m that no other
  modality has. On D_m^only every other modality n is pulled towards the
  *detached* features of m by an InfoNCE over the batch (:func:`duc_loss`).
* **Fusion stage** (epochs >= ``fusion_epoch``): the encoders are frozen
  (eval mode, no gradient) and only the fusion head F over the concatenated
  features trains, on CE(F([h_a; h_v]), y).

Prediction is :class:`DetachedInteractiveFusion`'s confidence-weighted vote
of the H_m and, once trained, F.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.evaluation.training_valuation import TrainingSetValuation
from armlab.registry import HOOKS, MODELS
from .base import Balancer, unwrap_model


def per_dimension_ncm_accuracy(feats: torch.Tensor, labels: torch.Tensor,
                               num_classes: int,
                               chunk: int = 1024) -> torch.Tensor:
    """(D,) accuracy of the nearest-class-mean rule on each dimension alone.

    Dimension d predicts argmin_k |h_d - mu_{k,d}| with mu the class means of
    ``feats``; classes without a sample are never predicted.
    """
    feats = feats.float()
    counts = torch.bincount(labels, minlength=num_classes).to(feats)
    means = feats.new_zeros(num_classes, feats.shape[1])
    means.index_add_(0, labels, feats)
    means = means / counts.clamp(min=1)[:, None]
    means[counts == 0] = float('inf')
    correct = feats.new_zeros(feats.shape[1])
    for start in range(0, feats.shape[0], chunk):
        h, y = feats[start:start + chunk], labels[start:start + chunk]
        nearest = (h[:, :, None] - means.t()[None]).abs().argmin(-1)
        correct += (nearest == y[:, None]).sum(0)
    return correct / max(feats.shape[0], 1)


def discriminative_dims(accuracy: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
    """Modality -> (D,) bool mask of D_m^only.

    D_m = the dimensions whose accuracy is above m's mean over dimensions;
    D_m^only = D_m minus the D_n of every other modality n.
    """
    above = {m: a > a.mean() for m, a in accuracy.items()}
    only = {}
    for m, mask in above.items():
        others = [above[n] for n in above if n != m]
        taken = torch.stack(others).any(0) if others else \
            torch.zeros_like(mask)
        only[m] = mask & ~taken
    return only


def duc_loss(student: torch.Tensor, teacher: torch.Tensor,
             dims: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE pulling ``student`` towards the detached ``teacher`` on
    ``dims``: s_ij = <student_i, teacher_j> / tau over those dimensions, the
    positive of row i its own sample, the rest of the batch its negatives.
    Zero (with a graph) when ``dims`` is empty."""
    if not bool(dims.any()):
        return student.sum() * 0
    s = student[:, dims].float()
    t = teacher[:, dims].detach().float()
    scores = s @ t.t() / temperature
    target = torch.arange(s.shape[0], device=s.device)
    return F.cross_entropy(scores, target)


@MODELS.register_module()
class DIMMLBalancer(Balancer):
    """The detached stage's losses and the fusion stage's frozen step.

    Args:
        shared_weight: w, the weight of the shared head's cross-entropies.
        duc_weight: lambda, the weight of L_DUC.
        duc_temperature: tau of L_DUC's InfoNCE (official: 50 on CREMA-D,
            10 on AVE).
        duc_epoch: The first epoch with L_DUC (official: 20 of 150); the
            dimensions are found once, before it. ``None``: never.
        fusion_epoch: The first epoch of the fusion stage (official: after
            the 150 detached epochs, 20 more). ``None``: no fusion stage.
    """

    required_hooks = ('DIMMLHook', )
    required_fusion = 'DetachedInteractiveFusion'
    #: D_m^only per modality, (M, D), found by the hook at ``duc_epoch``.
    lazy_buffers = ('only_dims', )

    def __init__(self, shared_weight: float = 1.0, duc_weight: float = 1.0,
                 duc_temperature: float = 50.0,
                 duc_epoch: Optional[int] = 20,
                 fusion_epoch: Optional[int] = None):
        super().__init__()
        if duc_temperature <= 0:
            raise ValueError('DIMMLBalancer duc_temperature must be > 0, got '
                             f'{duc_temperature}')
        if duc_epoch is not None and fusion_epoch is not None and \
                duc_epoch >= fusion_epoch:
            raise ValueError(
                f'DIMMLBalancer duc_epoch ({duc_epoch}) must come before '
                f'fusion_epoch ({fusion_epoch}): L_DUC belongs to the '
                'detached stage')
        self.shared_weight = shared_weight
        self.duc_weight = duc_weight
        self.duc_temperature = duc_temperature
        self.duc_epoch = duc_epoch
        self.fusion_epoch = fusion_epoch
        self.register_buffer('only_dims', torch.zeros(0, dtype=torch.bool))

    # -- stages ---------------------------------------------------------------
    def in_fusion_stage(self, epoch: int) -> bool:
        return self.fusion_epoch is not None and epoch >= self.fusion_epoch

    def duc_active(self, epoch: int) -> bool:
        return self.duc_epoch is not None and epoch >= self.duc_epoch \
            and self.only_dims.numel() > 0

    def set_only_dims(self, modalities, only: Dict[str, torch.Tensor]):
        self.only_dims = torch.stack([only[m] for m in modalities]).to(
            self.only_dims.device)

    def check_model(self, model) -> None:
        fusion_type = type(model.fusion).__name__
        if fusion_type != self.required_fusion:
            raise TypeError(
                f'DIMMLBalancer trains the heads of a {self.required_fusion} '
                f'(unimodal, shared and fusion heads); the model has '
                f'{fusion_type}')

    # -- the detached stage ---------------------------------------------------
    def losses(self, model, feats, logits, data_samples, losses):
        self.check_model(model)
        labels = self.labels(data_samples)
        fusion = model.fusion
        out = {k: v for k, v in losses.items() if k != 'loss_cls'}
        singles = fusion.unimodal_logits(feats)
        for m in model.modalities:
            out[f'loss_{m}'] = F.cross_entropy(singles[m], labels)
        if fusion.shared_head is not None and self.shared_weight:
            out['loss_shared'] = self.shared_weight * sum(
                F.cross_entropy(fusion.shared_head(feats[m]), labels)
                for m in model.modalities)
        if self.duc_weight and self.duc_active(self.current_epoch()):
            terms = [
                duc_loss(feats[n], feats[m], self.only_dims[i],
                         self.duc_temperature)
                for i, m in enumerate(model.modalities)
                for n in model.modalities if n != m]
            out['loss_duc'] = self.duc_weight * sum(terms) / len(terms)
        return out

    # -- the fusion stage -----------------------------------------------------
    def train_step(self, model, data, optim_wrapper, forward=None):
        if not self.in_fusion_stage(self.current_epoch()):
            return super().train_step(model, data, optim_wrapper, forward)
        self.check_model(model)
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(data, True)
            model.encoders.eval()  # frozen: no BatchNorm statistics move
            try:
                with torch.no_grad():
                    feats = model.extract_feat(data['inputs'])
            finally:
                model.encoders.train()
            logits = model.fusion.joint_logits(
                feats, model.modality_weights.clone())
            labels = self.labels(data['data_samples']).to(logits.device)
            losses = {'loss_fusion': F.cross_entropy(logits, labels)}
        parsed, log_vars = model.parse_losses(losses)
        self.update(model, optim_wrapper, parsed, sync=True)
        return log_vars


@HOOKS.register_module()
class DIMMLHook(Hook):
    """Finds D_m^only before ``duc_epoch`` and opens the fusion stage.

    The dimension pass runs the model in eval mode without gradient over the
    training split read with the test pipeline (``dataloader``), through
    the epoch-level hooks' one pass (:class:`TrainingSetValuation`), once:
    a resumed run whose checkpoint holds the dimensions does not redo it.

    Args:
        dataloader: The train split with the test pipeline: its config, or
            the name of a top-level config key holding it.
    """

    priority = 'NORMAL'

    def __init__(self, dataloader='train_eval_dataloader'):
        self._valuation = TrainingSetValuation(dataloader, owner='DIMMLHook')

    def before_train(self, runner: Runner) -> None:
        model = unwrap_model(runner.model)
        if not isinstance(model.balancer, DIMMLBalancer):
            raise TypeError('DIMMLHook needs model.balancer = DIMMLBalancer, '
                            f'got {type(model.balancer).__name__}')
        model.balancer.check_model(model)
        max_epochs = runner.max_epochs
        for key in ('duc_epoch', 'fusion_epoch'):
            value = getattr(model.balancer, key)
            if value is not None and value >= max_epochs:
                runner.logger.warning(
                    f'DIMMLBalancer {key}={value} is not before max_epochs='
                    f'{max_epochs}: that stage never runs')

    def before_train_epoch(self, runner: Runner) -> None:
        model = unwrap_model(runner.model)
        balancer = model.balancer
        epoch = runner.epoch
        if balancer.duc_epoch is not None and epoch >= balancer.duc_epoch \
                and balancer.only_dims.numel() == 0 \
                and not balancer.in_fusion_stage(epoch):
            self.find_dims(runner, model)
        if balancer.in_fusion_stage(epoch) and \
                not bool(model.fusion.fusion_head_trained):
            model.fusion.fusion_head_trained.fill_(True)
            runner.logger.info(
                f'DI-MML: fusion stage from epoch {epoch}; encoders frozen, '
                'the fusion head trains and votes')

    def find_dims(self, runner: Runner, model) -> None:
        """D_m^only from the features of the whole training split (every
        rank gets them all, so every rank finds the same dimensions)."""
        self._valuation.build(runner)
        feats, labels = self._valuation.features(model)
        device = model.modality_weights.device
        y = torch.from_numpy(labels).to(device)
        accuracy = {
            m: per_dimension_ncm_accuracy(torch.from_numpy(feats[m]).to(
                device), y, model.num_classes)
            for m in model.modalities}
        only = discriminative_dims(accuracy)
        model.balancer.set_only_dims(model.modalities, only)
        sizes = {m: int(v.sum()) for m, v in only.items()}
        runner.visualizer.add_scalars(
            {f'dimml/only_dims_{m}': s for m, s in sizes.items()},
            step=runner.epoch)
        runner.logger.info(
            f'DI-MML: dimensions only one modality discriminates, from '
            f'{y.numel()} training samples: {sizes}')

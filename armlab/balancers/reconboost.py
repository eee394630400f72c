"""ReconBoost: alternating boosting of the modalities with a reconcilement loss.

Hua, Xu, Bao, Yang, Huang, "ReconBoost: Boosting Can Achieve Modality
Reconcilement", ICML 2024 (configs/reconboost/README.md). Joint training lets
the modality that learns fastest fit what it can and starve the others.
ReconBoost trains one modality at a time, as a gradient-boosting stage,
against the ensemble of the others:

* learners f_m = G(h_m) share the head G; the ensemble is
  F = beta * sum_m f_m (:class:`BoostedEnsembleFusion`);
* a **learner stage** for modality m trains m's encoder and G only, on
  l_i = (w1 - w2 softmax(F_-m)[y_i]) CE(f_m, y_i) / K with F_-m the ensemble
  without m, detached: samples the others already solve weigh less
  (equivalently, CE minus a KL term towards them, the reconcilement), plus
  the alignment term alpha MSE(softmax(f_m), softmax(f_prev)) to the learner
  of the previous stage (detached);
* a **rectification stage** trains every encoder, G and beta on CE(F, y).

Stages follow each other in a fixed round-robin over the modalities (the
code's audio, visual, audio, ...), each ``learner_epochs`` epochs of the
learner and ``rectify_epochs`` epochs of rectification.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from armlab.models.fusions.boosted_ensemble import BoostedEnsembleFusion
from armlab.registry import MODELS
from .base import Balancer


def reconcile_weights(others_logits: torch.Tensor, labels: torch.Tensor,
                      w1: float, w2: float) -> torch.Tensor:
    """Per-sample CE weights (w1 - w2 softmax(F_-m)[y]) / K, in
    [(w1 - w2) / K, w1 / K]."""
    num_classes = others_logits.shape[1]
    p_true = others_logits.float().softmax(1).gather(1, labels[:, None])[:, 0]
    return (w1 - w2 * p_true) / num_classes


@MODELS.register_module()
class ReconBoostBalancer(Balancer):
    """ReconBoost's stage schedule over a :class:`BoostedEnsembleFusion`.

    Args:
        learner_epochs: Epochs of each learner stage (the code's
            ``epochs_per_stage``).
        rectify_epochs: Epochs of rectification after each learner stage
            (``correct_epoch``); 0 skips it.
        order: The modalities' round-robin order (default: model order).
        w1, w2: The reconcilement loss's weights.
        ga_weight: alpha of the alignment term (0 switches it off; the
            released code's term compares two detached outputs, so it has
            no gradient there: ``ga_weight=0`` is the code's training).
        others_in_eval: Compute F_-m with the other encoders in eval mode
            (their batch-norm statistics untouched); False runs them in
            train mode under no_grad, as the code.
        reset_momentum: Clear the optimiser state of the learner's
            parameters when its stage starts (the code rebuilds the
            learner's SGD every stage).
    """

    def __init__(self,
                 learner_epochs: int = 1,
                 rectify_epochs: int = 1,
                 order: Optional[Sequence[str]] = None,
                 w1: float = 5.0,
                 w2: float = 1.0,
                 ga_weight: float = 0.5,
                 others_in_eval: bool = True,
                 reset_momentum: bool = True):
        super().__init__()
        if learner_epochs < 1 or rectify_epochs < 0:
            raise ValueError(
                f'ReconBoostBalancer needs learner_epochs >= 1 and '
                f'rectify_epochs >= 0, got {learner_epochs}, '
                f'{rectify_epochs}')
        self.learner_epochs = learner_epochs
        self.rectify_epochs = rectify_epochs
        self.order = tuple(order) if order is not None else None
        self.w1, self.w2 = w1, w2
        self.ga_weight = ga_weight
        self.others_in_eval = others_in_eval
        self.reset_momentum = reset_momentum
        #: The last stage whose learner's optimiser state was reset (-1:
        #: none), saved so that a resumed run does not reset twice.
        self.register_buffer('reset_stage', torch.tensor(-1))

    # -- the schedule -----------------------------------------------------------
    def stage_order(self, model) -> Tuple[str, ...]:
        order = self.order or tuple(model.modalities)
        unknown = [m for m in order if m not in model.modalities]
        if unknown or len(order) < 2:
            raise ValueError(f'ReconBoostBalancer order {order} must name '
                             f'two or more of the model modalities '
                             f'{model.modalities}')
        return order

    def phase(self, model, epoch: int) -> Tuple[int, str, Optional[str]]:
        """(stage, 'learner' | 'rectify', the stage's modality) of
        ``epoch``."""
        order = self.stage_order(model)
        length = self.learner_epochs + self.rectify_epochs
        stage, offset = divmod(epoch, length)
        kind = 'learner' if offset < self.learner_epochs else 'rectify'
        return stage, kind, order[stage % len(order)]

    # -- the step ---------------------------------------------------------------
    @staticmethod
    def fusion_of(model) -> BoostedEnsembleFusion:
        if not isinstance(model.fusion, BoostedEnsembleFusion):
            raise TypeError(
                'ReconBoostBalancer boosts learners that share one head: set '
                "model.fusion=dict(type='BoostedEnsembleFusion'), got "
                f'{type(model.fusion).__name__}')
        return model.fusion

    def learner_parameters(self, model, modality: str) -> List:
        return list(model.encoders[modality].parameters()) + \
            list(self.fusion_of(model).head.parameters())

    def train_step(self, model, data, optim_wrapper, forward=None):
        fusion = self.fusion_of(model)
        stage, kind, modality = self.phase(model, self.current_epoch())
        if kind == 'rectify':  # CE(F) over every encoder, G and beta
            return super().train_step(model, data, optim_wrapper, forward)
        if self.reset_momentum and int(self.reset_stage) != stage:
            state = optim_wrapper.optimizer.state
            for p in self.learner_parameters(model, modality):
                state.pop(p, None)
            self.reset_stage.fill_(stage)
        order = self.stage_order(model)
        previous = order[(stage - 1) % len(order)] if stage > 0 else None
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(data, True)
            inputs, samples = data['inputs'], data['data_samples']
            labels = self.labels(samples)
            learner = fusion.learner(model.encoders[modality](
                inputs[modality]))
            others = self._others(model, inputs, modality)
            weights = reconcile_weights(others, labels, self.w1, self.w2)
            per_sample = F.cross_entropy(learner.float(), labels,
                                         reduction='none')
            losses = {'loss_learner': (weights * per_sample).mean()}
            if self.ga_weight > 0 and previous is not None:
                target = self._learner_without_grad(model, inputs, previous)
                losses['loss_align'] = self.ga_weight * F.mse_loss(
                    learner.float().softmax(1), target.float().softmax(1))
        parsed, log_vars = model.parse_losses(losses)
        self.update(model, optim_wrapper, parsed, sync=True)
        log_vars['reconboost_stage'] = float(stage)
        return log_vars

    @torch.no_grad()
    def _others(self, model, inputs, modality: str) -> torch.Tensor:
        """F_-m = beta * sum_{j != m} f_j, without gradient."""
        fusion = model.fusion
        total = 0
        for other in model.modalities:
            if other != modality:
                total = total + self._learner_without_grad(model, inputs,
                                                           other)
        return fusion.boost_rate.detach() * total

    @torch.no_grad()
    def _learner_without_grad(self, model, inputs, modality: str
                              ) -> torch.Tensor:
        encoder = model.encoders[modality]
        was_training = encoder.training
        if self.others_in_eval:
            encoder.eval()
        try:
            return model.fusion.learner(encoder(inputs[modality]))
        finally:
            encoder.train(was_training)

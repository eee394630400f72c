"""UMT: uni-modal teachers distilled into a jointly trained model.

Du et al., "On Uni-Modal Feature Learning in Supervised Multi-Modal
Learning", ICML 2023 (configs/umt/README.md). Jointly trained late fusion
under-learns the features each modality learns alone ("modality laziness").
UMT trains the fused model as usual and pulls each encoder's features toward
those of a frozen encoder trained on that modality alone:

    L = CE(G(h), y) + lambda * sum_m MSE(h_m, h_m^T).

The teachers are the members of a unimodal-ensemble run (UME,
``configs/unimodal_ensemble``: one run trains every modality alone with the
same encoders) or unimodal runs (``configs/unimodal``), read from their
checkpoints on first use. They are kept outside the model's modules (not in
its state dict, never seen by the optimiser), always in eval mode (BatchNorm
on its running statistics, unlike the BalanceBenchmark code, whose teachers
drift in train mode) and run without gradient.
"""
import copy
import glob
import os.path as osp
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from armlab.registry import MODELS
from .base import Balancer


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file: ``path`` itself, or in a work dir its single
    ``best_*.pth`` (else the one ``last_checkpoint`` names)."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'UMT teacher checkpoint {path} does not '
                                'exist; train the unimodal ensemble (or the '
                                'unimodal configs) first')
    best = sorted(glob.glob(osp.join(path, 'best_*.pth')))
    if len(best) == 1:
        return best[0]
    last = osp.join(path, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            return f.read().strip()
    raise FileNotFoundError(f'UMT: no single best_*.pth and no '
                            f'last_checkpoint in {path} (found {best})')


@MODELS.register_module()
class UMTBalancer(Balancer):
    """Feature distillation from frozen uni-modal teachers.

    Args:
        teacher_checkpoint: One checkpoint (file or work dir) holding every
            modality's encoder (a unimodal-ensemble run), or a dict modality
            -> checkpoint (unimodal runs); encoder weights are read under
            ``encoders.<m>.``.
        loss_weight: lambda (BalanceBenchmark: 10, on the pooled features).
    """

    def __init__(self,
                 teacher_checkpoint: Union[str, Dict[str, str], None] = None,
                 loss_weight: float = 10.0):
        super().__init__()
        if not teacher_checkpoint:
            raise ValueError(
                'UMTBalancer needs teacher_checkpoint: the work dir or '
                'checkpoint of a unimodal-ensemble run (configs/'
                'unimodal_ensemble), or a dict modality -> unimodal run')
        self.teacher_checkpoint = teacher_checkpoint
        self.loss_weight = loss_weight
        #: Modality -> frozen teacher encoder; a plain dict, so not a
        #: submodule: outside the state dict and the optimiser.
        self._teachers: Dict[str, nn.Module] = {}
        self._inputs: Optional[dict] = None

    def teachers(self, model) -> Dict[str, nn.Module]:
        """The frozen teachers, built from the model's own encoders and
        loaded from the checkpoint(s) on first use."""
        if self._teachers:
            return self._teachers
        sources = self.teacher_checkpoint if isinstance(
            self.teacher_checkpoint, dict) else {
                m: self.teacher_checkpoint for m in model.modalities}
        missing = [m for m in model.modalities if m not in sources]
        if missing:
            raise KeyError(f'UMTBalancer: no teacher checkpoint for '
                           f'{missing}; got {sorted(sources)}')
        states: Dict[str, dict] = {}
        for m in model.modalities:
            path = resolve_checkpoint(sources[m])
            if path not in states:
                ckpt = torch.load(path, map_location='cpu',
                                  weights_only=False)
                states[path] = ckpt.get('state_dict', ckpt)
            prefix = f'encoders.{m}.'
            weights = {k[len(prefix):]: v for k, v in states[path].items()
                       if k.startswith(prefix)}
            if not weights:
                raise KeyError(f'UMTBalancer: {path} holds no {prefix}* '
                               f'weights (a run with the {m!r} encoder is '
                               'needed)')
            teacher = copy.deepcopy(model.encoders[m])
            try:
                teacher.load_state_dict(weights)
            except RuntimeError as err:
                raise RuntimeError(f'UMTBalancer: the {m!r} teacher in {path} '
                                   'does not match the model\'s encoder: '
                                   f'{err}') from err
            teacher.requires_grad_(False)
            self._teachers[m] = teacher.eval()
        return self._teachers

    def train(self, mode: bool = True):
        super().train(mode)
        for teacher in self._teachers.values():
            teacher.eval()  # never on batch statistics
        return self

    def teacher_features(self, model, inputs: Dict[str, torch.Tensor]
                         ) -> Dict[str, torch.Tensor]:
        teachers = self.teachers(model)
        with torch.no_grad():
            out = {}
            for m, teacher in teachers.items():
                teacher.to(inputs[m].device).eval()
                out[m] = teacher(inputs[m])
        return out

    def before_forward(self, model, data: dict) -> None:
        self._inputs = data['inputs']

    def losses(self, model, feats, logits, data_samples, losses):
        inputs, self._inputs = self._inputs, None
        if inputs is None:
            raise RuntimeError(
                "UMTBalancer reads the batch's inputs in before_forward, "
                "which the balancer's train_step calls; call "
                'before_forward(model, data) before model.loss')
        targets = self.teacher_features(model, inputs)
        distill = sum(F.mse_loss(feats[m], targets[m])
                      for m in model.modalities)
        losses['loss_distill'] = self.loss_weight * distill
        return losses

"""Fill a fusion's class prototypes from the training split.

CIDer's backdoor-adjusted head (``BackdoorAdjustedFusion``) needs, per
class, a prototype of every modality's raw features and the class prior.
They must come from training data only: before training, this hook reads
the training split with the test pipeline (``train_eval_dataloader``), takes
each sample's mean over its valid (non-zero) steps per modality, and stores
the class means and the class frequencies in the fusion's buffers. A
checkpoint carries them, so a resumed run or ``tools/test.py`` needs no
pass; an evaluation never reads its own labels for them.
"""
from typing import Dict

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.balancers.base import unwrap_model
from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.models.backbones.sequence_projector import padding_mask
from armlab.registry import HOOKS


def valid_step_mean(x: torch.Tensor) -> torch.Tensor:
    """(B, D) mean over the non-padding steps of (B, T, D) (or (B, D) as
    it is); 0 for a sample with no valid step."""
    if x.dim() == 4 and x.shape[1] == 1:
        x = x.squeeze(1)
    if x.dim() == 2:
        return x
    valid = (~padding_mask(x)).to(x.dtype)[..., None]
    return (x * valid).sum(1) / valid.sum(1).clamp(min=1.0)


@HOOKS.register_module()
class ClassPrototypeHook(Hook):
    """Before training, the class prototypes and prior of the fusion."""

    priority = 'NORMAL'

    def before_train(self, runner: Runner) -> None:
        model = unwrap_model(runner.model)
        fusion = model.fusion
        if not hasattr(fusion, 'set_prototypes'):
            raise TypeError('ClassPrototypeHook needs a fusion with class '
                            'prototypes (BackdoorAdjustedFusion), got '
                            f'{type(fusion).__name__}')
        if not getattr(fusion, 'adjust', True):
            return
        if bool(fusion.prototypes_ready):  # restored from a checkpoint
            return
        sums, counts = self.class_sums(runner, model)
        for m in sums:
            if get_world_size() > 1:
                all_reduce(sums[m])
        if get_world_size() > 1:
            all_reduce(counts)
        if bool((counts == 0).any()):
            empty = torch.nonzero(counts == 0).view(-1).tolist()
            raise ValueError(f'ClassPrototypeHook: classes {empty} have no '
                             'training sample, so they have no prototype')
        fusion.set_prototypes({m: s / counts[:, None] for m, s in
                               sums.items()}, counts.float())
        runner.logger.info(
            'ClassPrototypeHook: prototypes of '
            f'{int(counts.sum())} training samples, class counts '
            f'{counts.long().tolist()}')

    @staticmethod
    @torch.no_grad()
    def class_sums(runner: Runner, model):
        """Per class, the sums of the samples' valid-step means (C, D_m)
        and the class counts (C,), over this rank's training samples."""
        loader = runner.build_dataloader(train_eval_loader_cfg(runner.cfg),
                                         seed=runner.seed)
        k = model.num_classes
        sums: Dict[str, torch.Tensor] = {}
        counts = None
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            labels = torch.cat([ds.gt_label for ds in data['data_samples']])
            one_hot = torch.nn.functional.one_hot(labels, k).float()
            counts = one_hot.sum(0) if counts is None else \
                counts + one_hot.sum(0)
            for m in model.modalities:
                mean = valid_step_mean(data['inputs'][m].float())
                part = one_hot.t().to(mean.device) @ mean
                sums[m] = part if m not in sums else sums[m] + part
        if counts is None:
            raise ValueError('ClassPrototypeHook: the training split is '
                             'empty')
        return sums, counts

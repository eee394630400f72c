"""DDP wrapper that keeps the balancer in charge of the training step."""
from typing import Dict

import torch
from mmengine.model import MMDistributedDataParallel

from armlab.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class MultimodalDistributedDataParallel(MMDistributedDataParallel):
    """MMDistributedDataParallel whose ``train_step`` runs the balancer.

    mmengine's wrapper calls ``update_params`` itself and would skip the
    balancer's gradient modulation and step selection; this one hands the
    step to ``module.balancer`` with the wrapper as the forward, so that
    gradients are still synchronised across processes.
    """

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        return self.module.balancer.train_step(
            self.module, data, optim_wrapper, forward=self)

"""A hook that kills the training process, for the resume tests.

Loaded by a config's ``custom_imports``; ``os._exit`` skips every cleanup,
as a power cut or an OOM kill would.
"""
import os

from mmengine.hooks import Hook

from armlab.registry import HOOKS


@HOOKS.register_module()
class CrashAtIterHook(Hook):
    """Exit with code 3 just before global iteration ``at_iter`` runs."""

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            os._exit(3)

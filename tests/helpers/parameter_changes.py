"""Which parameters a training step moved: for tests that a method trains
exactly the parts it claims to (ReconBoost's stages, DI-MML's fusion stage)."""
import torch


def snapshot(module) -> dict:
    """Name -> a detached copy of every parameter of ``module``."""
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict, module) -> set:
    """Names of the parameters that differ from ``before``."""
    return {k for k, v in module.named_parameters()
            if not torch.equal(before[k], v.detach())}

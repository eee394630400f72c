"""Where training stands, read from mmengine's message hub.

mmengine's RuntimeInfoHook records the epoch and the iteration there, so
balancers and fusions that change with the epoch (windows, annealing) need no
hook of their own to know it.
"""
from typing import Optional

from mmengine.logging import MessageHub


def current_epoch() -> int:
    """The 0-based training epoch (0 outside a runner)."""
    return int(MessageHub.get_current_instance().get_info('epoch', 0))


def current_iter() -> int:
    """The global training iteration (0 outside a runner)."""
    return int(MessageHub.get_current_instance().get_info('iter', 0))


def iters_per_epoch() -> Optional[int]:
    """Training iterations per epoch of an epoch-based run (``max_iters /
    max_epochs`` as RuntimeInfoHook records them); None outside one."""
    hub = MessageHub.get_current_instance()
    max_iters, max_epochs = hub.get_info('max_iters'), hub.get_info('max_epochs')
    if not max_iters or not max_epochs:
        return None
    return max(1, int(max_iters) // int(max_epochs))

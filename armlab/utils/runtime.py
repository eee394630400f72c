"""Where training stands, read from mmengine's message hub.

mmengine's RuntimeInfoHook records the epoch and the iteration there, so
balancers and fusions that change with the epoch (windows, annealing) need no
hook of their own to know it.
"""
from mmengine.logging import MessageHub


def current_epoch() -> int:
    """The 0-based training epoch (0 outside a runner)."""
    return int(MessageHub.get_current_instance().get_info('epoch', 0))


def current_iter() -> int:
    """The global training iteration (0 outside a runner)."""
    return int(MessageHub.get_current_instance().get_info('iter', 0))

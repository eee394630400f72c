"""A method's config parts checked together, before anything is built.

A method can live in several config places that must agree: its balancer in
``model.balancer``, its epoch-level hook in ``custom_hooks`` and a sampler
that takes the hook's plan in ``train_dataloader.sampler``. Left to run
time, a missing part surfaces at the first training step or after the first
epoch. :func:`check_method_parts` reads what each part declares it needs
(``Balancer.required_hooks``, a hook's ``required_sampler(cfg)``) and names
the missing one while the config is being read.
"""
from typing import Optional


def _registered(registry, name: Optional[str]):
    if not isinstance(name, str):
        return None
    return registry.get(name.split('.')[-1])


def check_method_parts(cfg) -> None:
    """Raise ``KeyError`` naming a fusion, hook or sampler the method needs.

    Args:
        cfg: The run config (``model.balancer``, ``custom_hooks``,
            ``train_dataloader.sampler``).
    """
    from armlab.registry import HOOKS, MODELS
    hooks = list(cfg.get('custom_hooks') or [])
    hook_types = {str(h.get('type')).split('.')[-1] for h in hooks}
    balancer = (cfg.get('model') or {}).get('balancer') or {}
    balancer_cls = _registered(MODELS, balancer.get('type'))
    needed_fusion = getattr(balancer_cls, 'required_fusion', None)
    fusion = (cfg.get('model') or {}).get('fusion') or {}
    fusion_type = str(fusion.get('type')).split('.')[-1]
    if needed_fusion and fusion_type != needed_fusion:
        raise KeyError(
            f"{balancer['type']} needs model.fusion = {needed_fusion}, got "
            f"{fusion.get('type')} (model = dict(fusion=dict(_delete_=True, "
            f"type='{needed_fusion}')))")
    for needed in getattr(balancer_cls, 'required_hooks', ()):
        if needed not in hook_types:
            raise KeyError(
                f"{balancer['type']} needs {needed} in custom_hooks "
                f"(custom_hooks = [dict(type='{needed}', ...)])")
    sampler = ((cfg.get('train_dataloader') or {}).get('sampler') or {})
    sampler_type = str(sampler.get('type')).split('.')[-1]
    for hook in hooks:
        hook_cls = _registered(HOOKS, hook.get('type'))
        required = getattr(hook_cls, 'required_sampler', None)
        needed = required(hook) if required else None
        if needed and sampler_type != needed:
            raise KeyError(
                f"{hook['type']} needs train_dataloader.sampler = "
                f"{needed}, got {sampler.get('type')} "
                f"(train_dataloader = dict(sampler=dict(_delete_=True, "
                f"type='{needed}', shuffle=True)))")

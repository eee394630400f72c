"""Registration of every armlab module and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every armlab module so that it registers, and set the scope.

    Args:
        init_default_scope: Set the global default scope to ``armlab`` so that
            configs build from armlab's registries (whose parents hold
            mmpretrain's and mmengine's modules).
    """
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    register_mmpretrain(init_default_scope=False)
    import armlab.active  # noqa: F401
    import armlab.balancers  # noqa: F401
    import armlab.datasets  # noqa: F401
    import armlab.engine  # noqa: F401
    import armlab.evaluation  # noqa: F401
    import armlab.models  # noqa: F401
    import armlab.robustness  # noqa: F401
    from .checkpoint_compat import patch_checkpoint_loading
    patch_checkpoint_loading()

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('armlab', scope_name='armlab')
    elif current.scope_name != 'armlab':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "armlab"; a new one is created for armlab.')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S%f')
        DefaultScope.get_instance(f'armlab-{stamp}', scope_name='armlab')

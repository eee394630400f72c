from .checkpoint_compat import patch_checkpoint_loading
from .setup_env import register_all_modules
from .threads import limit_blas_threads

__all__ = [
    'limit_blas_threads', 'patch_checkpoint_loading', 'register_all_modules'
]

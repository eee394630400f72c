from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .fusions import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403

"""armlab's registries: children of mmpretrain's, so that every mmpretrain and
mmengine module (ResNet, SGD, CheckpointHook, ...) builds from an armlab config
while armlab's own modules live in the ``armlab`` scope."""
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(name: str, parent: Registry, locations: list) -> Registry:
    return Registry(name, parent=parent, scope='armlab', locations=locations)


RUNNERS = _child('runner', mmpretrain_registry.RUNNERS, ['armlab.engine'])
LOOPS = _child('loop', mmpretrain_registry.LOOPS, ['armlab.engine'])
HOOKS = _child('hook', mmpretrain_registry.HOOKS,
               ['armlab.engine', 'armlab.balancers'])
OPTIMIZERS = _child('optimizer', mmpretrain_registry.OPTIMIZERS,
                    ['armlab.engine'])
OPTIM_WRAPPERS = _child('optimizer_wrapper',
                        mmpretrain_registry.OPTIM_WRAPPERS, ['armlab.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, ['armlab.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmpretrain_registry.PARAM_SCHEDULERS,
                          ['armlab.engine'])
DATASETS = _child('dataset', mmpretrain_registry.DATASETS, ['armlab.datasets'])
DATA_SAMPLERS = _child('data sampler', mmpretrain_registry.DATA_SAMPLERS,
                       ['armlab.datasets'])
TRANSFORMS = _child('transform', mmpretrain_registry.TRANSFORMS,
                    ['armlab.datasets', 'armlab.robustness'])
MODELS = _child('model', mmpretrain_registry.MODELS,
                ['armlab.models', 'armlab.balancers'])
# A direct child of mmengine's: the Runner looks wrappers up in mmengine's
# root registry, which resolves 'armlab.<Name>' only among its children.
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS,
                        ['armlab.models'])
METRICS = _child('metric', mmpretrain_registry.METRICS, ['armlab.evaluation'])
EVALUATORS = _child('evaluator', mmpretrain_registry.EVALUATORS,
                    ['armlab.evaluation'])
VISUALIZERS = _child('visualizer', mmpretrain_registry.VISUALIZERS,
                     ['armlab.engine'])
VISBACKENDS = _child('vis_backend', mmpretrain_registry.VISBACKENDS,
                     ['armlab.engine'])
LOG_PROCESSORS = _child('log processor', mmpretrain_registry.LOG_PROCESSORS,
                        ['armlab.engine'])
# Active-learning acquisition strategies (no OpenMMLab parent: nothing
# upstream selects samples to label).
ACQUISITION_STRATEGIES = Registry('acquisition strategy', scope='armlab',
                                  locations=['armlab.active.strategies'])

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS',
    'LOG_PROCESSORS', 'ACQUISITION_STRATEGIES'
]

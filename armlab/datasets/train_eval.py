"""The training split read with the test pipeline, derived from a config.

Epoch-level passes (ARM's and the modality valuation's sampling plans, PMR's
prototypes, linear probes, active learning's pool, the mean fill of the
robustness tool) read the *training* samples without augmentation. That
loader is the train loader with three changes: the validation pipeline, no
shuffling and no re-sampling, and the evaluation batch size. So no config
spells it out: :func:`train_eval_loader_cfg` derives it, and a dataset preset
or a changed pipeline reaches it through the loaders it is derived from. A
config may still define ``train_eval_dataloader`` to replace the derived one.
"""
import copy

#: The config key of an explicit override.
TRAIN_EVAL_KEY = 'train_eval_dataloader'


def train_eval_loader_cfg(cfg, key: str = TRAIN_EVAL_KEY) -> dict:
    """The dataloader config of the train split with the test pipeline.

    Args:
        cfg: The whole run config (an mmengine ``Config`` or a dict).
        key: A top-level key that, when present, holds the loader as it is.

    Raises:
        KeyError: The config has neither ``key`` nor a train and a
            validation (or test) loader to derive it from.
        ValueError: The train dataset is a wrapper without a pipeline of its
            own (define ``key`` explicitly then).
    """
    if cfg.get(key):
        return copy.deepcopy(cfg[key])
    train = cfg.get('train_dataloader')
    evaluation = cfg.get('val_dataloader') or cfg.get('test_dataloader')
    if not train or not evaluation:
        raise KeyError(f'{key}: the config has no {key!r} and no '
                       'train_dataloader plus val_dataloader (or '
                       'test_dataloader) to derive it from')
    loader = copy.deepcopy(train)
    dataset = loader['dataset']
    if 'pipeline' not in dataset:
        raise ValueError(
            f"{key}: train_dataloader.dataset ({dataset.get('type')}) has no "
            f'pipeline to replace by the test one; define {key!r} in the '
            'config')
    dataset['pipeline'] = copy.deepcopy(evaluation['dataset']['pipeline'])
    dataset['test_mode'] = True
    loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader.pop('batch_sampler', None)
    loader['batch_size'] = evaluation.get('batch_size',
                                          loader.get('batch_size', 1))
    # The valuation keeps its own persistent loader; this one is built once.
    loader['persistent_workers'] = False
    return loader


def held_out_loader_cfg(loader: dict, owner: str) -> dict:
    """The held-out part of the training split: ``loader`` (a loader of the
    train split, usually :func:`train_eval_loader_cfg`'s) with its dataset's
    ``holdout.part`` switched to ``'held_out'``.

    Methods that measure something on training data the model never fits
    (ARM's held-out valuation, G-Blending's overfitting estimate) read it.

    Raises:
        ValueError: The train dataset has no ``holdout``: naming the key to
            set, since without it there is no held-out part to read.
    """
    loader = copy.deepcopy(loader)
    holdout = loader['dataset'].get('holdout')
    if not holdout:
        raise ValueError(
            f'{owner} needs a held-out part of the training split: set '
            "train_dataloader.dataset.holdout=dict(fraction=0.1, part='train')"
            ' (the loaders derived from it then read the other part)')
    loader['dataset']['holdout'] = dict(holdout, part='held_out')
    return loader

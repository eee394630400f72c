"""Every shipped method config parses, builds its model, and names
registered modules only."""

import pytest
from mmengine.config import Config

from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.registry import DATA_SAMPLERS, DATASETS, HOOKS, MODELS

from conftest import REPO

CONFIGS = sorted(
    p for p in (REPO / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


#: Classes of each real benchmark (docs/protocols.md); AV-Digits has 10.
NUM_CLASSES = {'cremad': 6, 'kinetics_sounds': 31, 'ave': 28, 'vggsound': 309,
               'ucf51': 51, 'food101': 101, 'iemocap': 6, 'mosi': 3,
               'mosi-unaligned': 3, 'mosei': 3, 'mosei-unaligned': 3,
               'mosi-regression': 1, 'mosei-regression': 1, 'mvsa-single': 3,
               'mvsa-multiple': 3, 'urfunny': 2}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model)
    assert model.num_classes == next(
        (n for k, n in NUM_CLASSES.items() if path.stem.endswith('_' + k)),
        10)
    assert 'train_eval_dataloader' not in cfg  # derived, never spelt out
    loaders = {name: cfg[name] for name in
               ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    for loader in [*loaders.values(), train_eval_loader_cfg(cfg)]:
        assert DATASETS.get(loader.dataset.type) is not None
        assert DATA_SAMPLERS.get(loader.sampler.type) is not None
    for hook in cfg.get('custom_hooks', []):
        assert HOOKS.get(hook.type) is not None


def test_arm_ablations_keep_the_valuation_settings():
    root = REPO / 'configs' / 'arm'
    base = Config.fromfile(str(root / 'arm_resnet18_avdigits.py'))
    for path in root.glob('arm-*-only_*.py'):
        hook = Config.fromfile(str(path)).custom_hooks[0]
        assert hook.subset == base.custom_hooks[0].subset, path.name
        assert hook.warmup_epochs == base.custom_hooks[0].warmup_epochs

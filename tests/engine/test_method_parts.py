"""A method config that leaves out a part its balancer or hook needs fails
while the config is read, with the missing part named."""
from pathlib import Path

import pytest
from mmengine.config import Config

from conftest import REPO, load_tool

from armlab.engine.method_parts import check_method_parts
from armlab.utils import register_all_modules

CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
ARM = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules()


def test_every_shipped_config_has_its_parts():
    for path in CONFIGS:
        check_method_parts(Config.fromfile(str(path)))
    assert len(CONFIGS) > 100


def test_a_balancer_without_its_hook_names_the_hook():
    cfg = Config.fromfile(str(ARM))
    cfg.custom_hooks = []
    with pytest.raises(KeyError, match='ARMBalancer needs ARMHook in '
                                       'custom_hooks'):
        check_method_parts(cfg)


def test_a_hook_without_its_sampler_names_the_sampler():
    cfg = Config.fromfile(str(ARM))
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    with pytest.raises(KeyError, match='ARMHook needs train_dataloader.'
                                       'sampler = ResamplingSampler, got '
                                       'DefaultSampler'):
        check_method_parts(cfg)
    # Re-sampling off: the plain sampler is enough.
    cfg.custom_hooks[0].resample = dict(enable=False)
    check_method_parts(cfg)


def test_train_tool_checks_before_building(tmp_path):
    config = tmp_path / 'arm_without_hook.py'
    config.write_text(f"_base_ = '{ARM}'\ncustom_hooks = []\n")
    tool = load_tool('tools/train.py')
    args = tool.argparse.Namespace(
        config=str(config), cfg_options=None, work_dir=str(tmp_path / 'w'),
        amp=False, vis_backend=[], no_validate=False, resume=None,
        auto_scale_lr=False, no_pin_memory=False,
        no_persistent_workers=False, launcher='none')
    with pytest.raises(KeyError, match='needs ARMHook'):
        tool.build_config(args)
    assert not Path(tmp_path / 'w').exists()


def test_a_balancer_without_its_fusion_names_the_fusion():
    cfg = Config.fromfile(str(REPO / 'configs' / 'unimodal_ensemble' /
                              'unimodal_ensemble_resnet18_avdigits.py'))
    check_method_parts(cfg)
    cfg.model.fusion = dict(type='ConcatFusion')
    with pytest.raises(KeyError, match='UnimodalEnsemble needs model.fusion '
                                       '= ProbabilityAverageFusion'):
        check_method_parts(cfg)

"""The training split read with the test pipeline is derived from the train
and validation loaders, so that no config spells out a fourth loader."""
import pytest
from mmengine.config import Config

from conftest import REPO

from armlab.datasets.train_eval import train_eval_loader_cfg

AVDIGITS = REPO / 'configs' / 'arm' / 'arm_resnet18_avdigits.py'
VISUAL_DOMINANT = REPO / 'configs' / 'pmr' / \
    'pmr_resnet18_avdigits-visual-dominant.py'


def test_derived_from_the_train_split_and_the_validation_pipeline():
    cfg = Config.fromfile(str(AVDIGITS))
    loader = train_eval_loader_cfg(cfg)
    assert loader['dataset']['split'] == 'train'
    assert loader['dataset']['pipeline'] == cfg.val_dataloader.dataset.pipeline
    assert loader['dataset']['pipeline'] != \
        cfg.train_dataloader.dataset.pipeline  # no augmentation
    assert loader['dataset']['test_mode'] is True
    # ARM's re-sampling sampler belongs to training, not to the pass.
    assert cfg.train_dataloader.sampler.type == 'ResamplingSampler'
    assert loader['sampler'] == dict(type='DefaultSampler', shuffle=False)
    assert loader['batch_size'] == cfg.val_dataloader.batch_size
    assert cfg.train_dataloader.dataset.pipeline != loader['dataset'][
        'pipeline']  # the run's own config is left as it was


def test_a_preset_reaches_the_pass_through_the_train_loader():
    cfg = Config.fromfile(str(VISUAL_DOMINANT))
    assert train_eval_loader_cfg(cfg)['dataset']['preset'] == \
        'visual-dominant'


def test_an_explicit_loader_wins():
    cfg = Config.fromfile(str(AVDIGITS))
    cfg.train_eval_dataloader = dict(batch_size=3, dataset=dict(type='X'))
    assert train_eval_loader_cfg(cfg) == dict(batch_size=3,
                                              dataset=dict(type='X'))


def test_missing_loaders_and_wrappers_are_named():
    with pytest.raises(KeyError, match='no train_dataloader plus'):
        train_eval_loader_cfg(dict(val_dataloader=dict(dataset={})))
    wrapped = dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', dataset=dict(type='X'))),
        val_dataloader=dict(dataset=dict(pipeline=[])))
    with pytest.raises(ValueError, match=r"RepeatDataset\) has no pipeline"):
        train_eval_loader_cfg(wrapped)

"""Every baseline's CMU-MOSI config trains: one epoch on a tiny prepared
MMSA pickle (9 training samples, three modalities), through the runner.

The configs are the IEMOCAP settings on the sentiment model; what this adds
to test_real_dataset_configs.py (wiring, windows, README rows) is that each
balancer, fusion and hook really runs on three feature sequences and leaves
finite losses. UMT is left out: its teachers are three trained unimodal
runs (its teacher loading is tested on AV-Digits); CIDer has its own test.
"""
import math

import pytest

from conftest import REPO, train_in_process
from helpers.sentiment_pickles import loader_options, prepare_tiny_mosi

from armlab.utils.scalars import load_scalars

CONFIGS = sorted(
    p for p in (REPO / 'configs').glob('*/*_sequence_mosi.py')
    if p.parent.name not in ('cider', 'umt', 'joint'))


@pytest.fixture(scope='module')
def mosi(tmp_path_factory):
    return prepare_tiny_mosi(tmp_path_factory.mktemp('methods_mosi'))


def test_every_method_has_a_mosi_config():
    methods = {p.parent.name for p in CONFIGS}
    assert {'agm', 'amst', 'mla', 'mmpareto', 'opm', 'pmr', 'reconboost',
            'dimml', 'gblend', 'inforeg', 'lfm', 'arm', 'unimodal'} <= methods


@pytest.mark.filterwarnings('ignore:modality_information')  # 9 samples
@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_the_mosi_config_trains_one_epoch(config, mosi, tmp_path):
    work = tmp_path / 'work'
    train_in_process(config, work, '--cfg-options', *loader_options(mosi),
                     'train_cfg.max_epochs=1',
                     'default_hooks.logger.interval=1')
    assert (work / 'epoch_1.pth').is_file()
    rows = [r for r in load_scalars(work) if 'loss' in r]
    assert rows, f'{config.name}: no training loss logged'
    assert all(math.isfinite(r['loss']) for r in rows), config.name

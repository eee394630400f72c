"""The method configs of the real benchmarks are wired to their dataset.

Cheap checks, no training and no data: every ``configs/<method>/*_<dataset>.py``
names only the dataset's modalities in its balancer, fusion and hooks, values
the training split with the dataset's test pipeline, keeps its windows inside
the schedule and carries the per-dataset values of the method cards. Each
method README's "Real benchmarks" table lists exactly these configs, and the
reasons it gives for a missing config are the code's refusals.
"""
import re
from functools import lru_cache
from pathlib import Path

import pytest
from mmengine.config import Config

from armlab.balancers.ogm_ge import conv_kernels
from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.models.classifiers.multimodal import configured_modalities
from armlab.registry import MODELS

from conftest import REPO

CONFIGS_DIR = REPO / 'configs'
#: Dataset key (config suffix) -> the name its README rows use.
DATASETS = {
    'cremad': 'CREMA-D',
    'kinetics_sounds': 'Kinetics-Sounds',
    'ave': 'AVE',
    'vggsound': 'VGGSound',
    'ucf51': 'UCF-51',
    'food101': 'Food-101',
    'iemocap': 'IEMOCAP',
    'mosi': 'CMU-MOSI',
    'mosei': 'CMU-MOSEI',
}
METHOD_DIRS = ('arm', 'agm', 'amco', 'amst', 'cml', 'diagnose_relearn', 'dimml', 'gblend',
               'greedy', 'inforeg', 'lfm', 'mbsd', 'mla', 'mmcosine', 'mmpareto',
               'modality_valuation', 'ogm_ge', 'opm', 'pmr', 'reconboost', 'umt',
               'unimodal')
#: Words that name a modality in some dataset or paper: any of them in a
#: balancer / fusion / hook setting must be one of the model's encoders.
MODALITY_WORDS = {'audio', 'visual', 'text', 'image', 'video', 'vision',
                  'rgb', 'flow', 'sound', 'language', 'acoustic'}
#: Keys of balancer / hook settings that count epochs.
EPOCH_KEYS = ('start_epoch', 'end_epoch', 'warmup_epochs', 'interval',
              'duc_epoch', 'fusion_epoch')


def dataset_of(path: Path):
    return next((ds for ds in DATASETS if path.stem.endswith(f'_{ds}')),
                None)


METHOD_CONFIGS = sorted(
    p for d in METHOD_DIRS for p in (CONFIGS_DIR / d).glob('*.py')
    if dataset_of(p))


@lru_cache(maxsize=None)
def load(path: Path) -> Config:
    return Config.fromfile(str(path))


@lru_cache(maxsize=None)
def dataset_cfg(ds: str) -> Config:
    return load(CONFIGS_DIR / '_base_' / 'datasets' / f'{ds}.py')


def dataset_modalities(ds: str) -> set:
    """The modalities the dataset's test pipeline packs."""
    pack = [s for s in dataset_cfg(ds).test_pipeline
            if s['type'] in ('PackMultimodalInputs', 'PackFeatureInputs')]
    assert len(pack) == 1, f'{ds}: expected one packing step'
    return set(pack[0]['modalities'])


def modality_names(node) -> set:
    """Every dict key or string value under ``node`` that names a modality."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in MODALITY_WORDS:
                found.add(key)
            found |= modality_names(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found |= modality_names(value)
    elif isinstance(node, str) and node in MODALITY_WORDS:
        found.add(node)
    return found


def epoch_settings(node, prefix=''):
    """(name, value) of every epoch-counting setting and skip factor."""
    if isinstance(node, dict):
        for key, value in node.items():
            name = f'{prefix}{key}'
            if key in EPOCH_KEYS and isinstance(value, int):
                yield name, value
            elif key == 'skip_factors':
                yield from ((f'{name}.{m}', k) for m, k in value.items())
            else:
                yield from epoch_settings(value, f'{name}.')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from epoch_settings(value, f'{prefix}{i}.')


def test_every_method_has_real_benchmark_configs():
    found = {d: {dataset_of(p) for p in METHOD_CONFIGS if p.parent.name == d}
             for d in METHOD_DIRS}
    # Every dataset has ARM, the data-level and loss-level baselines and the
    # unimodal references; the others are absent only where README says why.
    for d in ('arm', 'agm', 'pmr', 'mla', 'mmcosine', 'mmpareto',
              'modality_valuation', 'unimodal'):
        assert found[d] == set(DATASETS), d
    assert found['ogm_ge'] == found['greedy'] == set(DATASETS) - {
        'food101', 'iemocap', 'mosi', 'mosei'}
    assert found['amst'] == {'cremad', 'ave', 'iemocap', 'mosi', 'mosei'}


@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.stem)
def test_config_is_wired_to_its_dataset(path):
    cfg, ds = load(path), dataset_of(path)
    data = dataset_cfg(ds)
    encoders = set(configured_modalities(cfg.model))
    assert encoders <= dataset_modalities(ds)
    if path.parent.name == 'unimodal':
        assert len(encoders) == 1 and path.stem.startswith(
            f'unimodal_{next(iter(encoders))}_')
    else:
        assert encoders == dataset_modalities(ds)
    # Normalisation statistics for every encoder the config names (a
    # unimodal config keeps the joint one's and selects with modalities).
    assert set(cfg.model.data_preprocessor.modalities) == set(
        cfg.model.encoders)

    # Modality names in the method's settings are the model's modalities.
    settings = [cfg.model.get('balancer'), cfg.model.get('fusion'),
                cfg.model.get('alt_fusion'), cfg.get('custom_hooks', []),
                {k: v for k, v in cfg.items() if k == 'skip_factors'}]
    named = modality_names(settings)
    assert named <= encoders, f'{path.name}: {named - encoders} not encoded'

    # Epoch-level valuation reads the train split with the test pipeline.
    train_eval = train_eval_loader_cfg(cfg)
    assert train_eval.dataset.pipeline == data.test_pipeline
    assert train_eval.dataset.ann_file == \
        data.train_dataloader.dataset.ann_file
    data_root = data.train_dataloader.dataset.data_root
    assert train_eval.dataset.data_root == data_root
    assert train_eval.sampler.get('shuffle') is False
    assert 'train_eval_dataloader' not in cfg  # derived, never spelt out
    for hook in cfg.get('custom_hooks', []):
        assert 'dataloader' not in hook, hook.type  # the derived one
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = dict(cfg[name].dataset)
        if name == 'train_dataloader':  # a held-out part of it (G-Blending)
            dataset.pop('holdout', None)
        assert dataset == data[name].dataset, name

    # Windows, warm-ups and skip factors fit in the schedule.
    max_epochs = cfg.train_cfg.max_epochs
    for name, value in epoch_settings(
            dict(balancer=cfg.model.get('balancer', {}),
                 custom_hooks=cfg.get('custom_hooks', []))):
        assert 0 <= value < max_epochs, f'{path.name}: {name}={value}'


def balancer(method_dir: str, name: str) -> dict:
    return load(CONFIGS_DIR / method_dir / name).model.balancer


def test_per_dataset_values_from_the_method_cards():
    # OGM-GE README: CREMA-D 0.8, VGGSound 0.1; the paper's epochs 0-50.
    assert balancer('ogm_ge', 'ogm-ge_resnet18_cremad.py').alpha == 0.8
    assert balancer('ogm_ge', 'ogm-ge_resnet18_vggsound.py').alpha == 0.1
    for ds in ('cremad', 'kinetics_sounds', 'ave', 'vggsound', 'ucf51'):
        ogm = balancer('ogm_ge', f'ogm-ge_resnet18_{ds}.py')
        assert (ogm.start_epoch, ogm.end_epoch) == (0, 51)
    # AGM author (lihongcs/AGM #3, #10): CREMA-D alpha 1.5, the whole run.
    agm = balancer('agm', 'agm_resnet18_cremad.py')
    assert agm.alpha == 1.5 and agm.end_epoch is None
    # AMST scripts: audio skip 5 (CREMA-D), 2 (AVE), 4 (IEMOCAP).
    for ds, enc, k in (('cremad', 'resnet18', 5), ('ave', 'resnet18', 2),
                       ('iemocap', 'mlp_transformer', 4)):
        for variant in ('alt', 'joint', 'full'):
            amst = balancer('amst', f'amst-{variant}_{enc}_{ds}.py')
            assert amst.variant == variant.upper()
            assert amst.skip_factors['audio'] == k
            assert set(amst.skip_factors.values()) == {1, k}
    # PMR bash.sh: alpha 2.0, mu 0, modulation while epoch <= 70 of the
    # 100-epoch schedule (70 included: end_epoch 71, as the window ends
    # before it), over the first 70 % of a schedule of another length.
    for path in (CONFIGS_DIR / 'pmr').glob('pmr_*.py'):
        if dataset_of(path):
            cfg = load(path)
            pmr = cfg.model.balancer
            assert (pmr.alpha, pmr.momentum) == (2.0, 0.0)
            epochs = cfg.train_cfg.max_epochs
            assert pmr.end_epoch == (71 if epochs == 100 else
                                     round(0.7 * epochs)), path.name


def readme_rows(method_dir: str) -> dict:
    """Dataset name -> its row of the README's "Real benchmarks" table."""
    text = (CONFIGS_DIR / method_dir / 'README.md').read_text()
    assert '## Real benchmarks' in text, method_dir
    section = text.split('## Real benchmarks', 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if line.startswith('|') and cells[0] in DATASETS.values():
            rows[cells[0]] = line
    return rows


@pytest.mark.parametrize('method_dir', METHOD_DIRS)
def test_readme_lists_each_dataset_and_its_configs(method_dir):
    rows = readme_rows(method_dir)
    assert set(rows) == set(DATASETS.values())
    for ds, name in DATASETS.items():
        named = {c for c in re.findall(r'`([\w.-]+\.py)`', rows[name])
                 if dataset_of(Path(c))}
        shipped = {p.name for p in METHOD_CONFIGS
                   if p.parent.name == method_dir and dataset_of(p) == ds}
        assert named == shipped, (method_dir, name)
        if not shipped:  # a missing config says why
            assert 'no config' in rows[name].lower(), (method_dir, name)


def joint_model(ds: str, **override) -> dict:
    enc = {'food101': 'resnet18_transformer', 'iemocap': 'mlp_transformer',
           'mosi': 'sequence', 'mosei': 'sequence'}
    cfg = load(CONFIGS_DIR / 'joint' /
               f'joint_concat_{enc.get(ds, "resnet18")}_{ds}.py')
    return {**cfg.model.to_dict(), **override}


def test_the_reasons_for_missing_configs_are_the_code_refusals():
    # Greedy's MMTM needs two ResNet branches.
    mmtm = dict(type='MMTMClassifier', balancer=dict(type='GreedyBalancer'))
    with pytest.raises(TypeError, match='TextEncoder'):
        MODELS.build(joint_model('food101', **mmtm))
    with pytest.raises(ValueError, match='exactly two modalities'):
        MODELS.build(joint_model('iemocap', **mmtm))
    # MBSD distils between two modalities: IEMOCAP has three.
    model = MODELS.build(joint_model('iemocap',
                                     balancer=dict(type='MBSDBalancer')))
    with pytest.raises(ValueError, match='exactly two modalities'):
        model.balancer.losses(model, {}, None, [], {})
    # OGM-GE modulates conv kernels: the text and feature encoders have none.
    for ds in ('food101', 'iemocap'):
        for m, enc in joint_model(ds)['encoders'].items():
            if enc['type'] in ('TextEncoder', 'SequenceEncoder'):
                enc = {**enc, 'vocab_size': 16} if 'vocab_size' in enc \
                    else enc
                assert not conv_kernels(MODELS.build(enc)), (ds, m)
    # The shared head of MLA / AMST-ALT refuses Food-101's joint widths, so
    # the MLA config widens the text encoder to the image encoder's 512.
    with pytest.raises(ValueError, match='same feature size'):
        MODELS.build(joint_model(
            'food101', fusion=dict(type='SharedHeadFusion'),
            balancer=dict(type='MLABalancer')))
    mla = load(CONFIGS_DIR / 'mla' / 'mla_resnet18_transformer_food101.py')
    assert mla.model.encoders.text.embed_dims == 512

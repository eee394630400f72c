"""The AV-Digits config pipeline on real builds: the embedded one (sklearn
digits + espeak) and the all-real one (MNIST + FSDD from ../shared)."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from conftest import REPO, TINY_BUILD

from armlab.datasets.avdigits.builder import build_avdigits
from armlab.datasets.avdigits.presets import get_preset
from armlab.registry import DATASETS, MODELS

DATASET_CFG = REPO / 'configs' / '_base_' / 'datasets' / 'avdigits.py'


def build_split(root, split, build_cfg, preset='audio-dominant'):
    cfg = Config.fromfile(str(DATASET_CFG))
    loader = cfg[f'{split}_dataloader']
    ds_cfg = dict(loader.dataset, data_root=str(root), build_cfg=build_cfg,
                  preset=preset)
    return DATASETS.build(ds_cfg)


def model_inputs(ds, indices, training=False):
    """What the model receives: the samples through the joint config's data
    preprocessor (which runs the steps the pipeline deferred to the
    batch)."""
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batch = pseudo_collate([ds[i] for i in indices])
    return preprocessor(batch, training)['inputs']


def test_config_pipeline_packs_both_modalities(tiny_root):
    ds = build_split(tiny_root, 'val', TINY_BUILD)
    assert len(ds) == TINY_BUILD['num_val']
    assert ds.metainfo['classes'][3] == 'three'
    item = ds[0]
    packed, sample = item['inputs'], item['data_samples']
    # The workers pack the waveform and uint8 frames; the noise and the
    # log-mel wait for the batch.
    assert packed['audio'].shape == (16000, )
    assert packed['visual'].shape == (3, 1, 32, 32)
    assert packed['visual'].dtype == torch.uint8
    assert sample.gt_label.item() == ds.get_data_info(0)['gt_label']
    assert sample.modality_mask.tolist() == [True, True]
    inputs = model_inputs(ds, [0])
    assert inputs['audio'].shape == (1, 1, 64, 51)
    assert inputs['audio'].dtype == torch.float32
    assert inputs['visual'].shape == (1, 3, 1, 32, 32)
    # Evaluation samples are identical each time they are read.
    again = model_inputs(ds, [0])
    assert torch.equal(again['audio'], inputs['audio'])
    assert torch.equal(again['visual'], inputs['visual'])


def test_presets_change_inputs_not_files(tiny_root):
    clean = model_inputs(
        build_split(tiny_root, 'val', TINY_BUILD, preset='clean'), [1])
    noisy = model_inputs(build_split(tiny_root, 'val', TINY_BUILD), [1])
    # Pixel noise sigma on [0, 1] is sigma * 255 on the 0-255 frames, which
    # the preprocessor divides by the config's std (78).
    sigma = get_preset('audio-dominant')['visual_noise_std'] * 255
    diff = (noisy['visual'] - clean['visual']) * 78.0
    assert 0.8 * sigma < diff.std() < 1.2 * sigma
    assert not torch.equal(clean['audio'], noisy['audio'])


def test_batch_goes_through_the_model(tiny_root):
    ds = build_split(tiny_root, 'train', TINY_BUILD)
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'))
    model = MODELS.build(cfg.model)
    batch = pseudo_collate([ds[i] for i in range(4)])
    losses = model.loss(**model.data_preprocessor(batch, True))
    assert torch.isfinite(losses['loss_cls'])


def test_all_real_variant_mnist_fsdd(shared_data, tmp_path):
    build_cfg = dict(TINY_BUILD, visual_source='mnist', audio_source='fsdd',
                     mnist_path=str(shared_data / 'mnist10k' / 'mnist10k.npz'),
                     fsdd_path=str(shared_data / 'fsdd' / 'recordings'))
    build_avdigits(str(tmp_path), progress=False, **build_cfg)
    speakers = {}
    for split in ('train', 'val', 'test'):
        ds = build_split(tmp_path, split, build_cfg)
        speakers[split] = {
            ds.get_data_info(i)['speaker'] for i in range(len(ds))
        }
        inputs = model_inputs(ds, [0])
        assert inputs['audio'].shape == (1, 1, 64, 51)
        assert inputs['visual'].shape == (1, 3, 1, 32, 32)
        assert np.isfinite(inputs['audio'].numpy()).all()
    assert speakers['test'] == {'theo'} and speakers['val'] == {'yweweler'}
    assert not speakers['train'] & (speakers['val'] | speakers['test'])

"""Tests of the AV-Digits builder and of AVDigitsDataset's auto-build."""
import hashlib
import json
import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest

from armlab.datasets.avdigits import build_avdigits
from armlab.datasets.avdigits.espeak import espeak_available
from armlab.datasets.avdigits.presets import get_preset

from conftest import REPO

SHARED = os.environ.get('ARMLAB_SHARED_DATA',
                        osp.join(REPO, '..', 'shared', 'data'))
MNIST = osp.join(SHARED, 'mnist10k', 'mnist10k.npz')
FSDD = osp.join(SHARED, 'fsdd')
SPLITS = ('train', 'val', 'test')
TINY = dict(num_train=30, num_val=10, num_test=10, num_frames=2,
            progress=False)

needs_espeak = pytest.mark.skipif(not espeak_available(),
                                  reason='espeakng-loader not installed')


def _annotations(root):
    out = {}
    for split in SPLITS:
        with open(osp.join(root, 'annotations', f'{split}.json')) as f:
            out[split] = json.load(f)
    return out


def _tree_hashes(root):
    hashes = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                hashes[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return hashes


@pytest.fixture(scope='module')
def espeak_build(tmp_path_factory):
    if not espeak_available():
        pytest.skip('espeakng-loader not installed')
    root = str(tmp_path_factory.mktemp('avdigits_a'))
    meta = build_avdigits(root, **TINY)
    return root, meta


@needs_espeak
def test_layout_and_annotations(espeak_build):
    import soundfile as sf
    from armlab.datasets.transforms.audio_features import log_mel_spectrogram
    root, meta = espeak_build
    assert meta['counts'] == {'train': 30, 'val': 10, 'test': 10}
    with open(osp.join(root, 'meta.json')) as f:
        assert json.load(f)['build']['build_key'] == meta['build']['build_key']
    assert meta['build']['backend'].startswith('libespeak-ng')
    anns = _annotations(root)
    for split, ann in anns.items():
        assert ann['metainfo']['classes'][0] == 'zero'
        assert ann['metainfo']['classes'][9] == 'nine'
        assert ann['metainfo']['modalities'] == ['audio', 'visual']
        assert len(ann['data_list']) == meta['counts'][split]
        first = ann['data_list'][0]
        sid = f'{split}_000000'
        assert first['sample_id'] == sid
        assert first['paths'] == {
            'audio': f'audio/{split}/{sid}.wav',
            'audio_spec': f'spec/{split}/{sid}.npy',
            'visual': f'frames/{split}/{sid}'}
        assert {'image_index', 'voice', 'take'} <= set(first)
    sample = anns['train']['data_list'][0]
    wave, rate = sf.read(osp.join(root, sample['paths']['audio']),
                         dtype='float32')
    info = sf.info(osp.join(root, sample['paths']['audio']))
    assert rate == 16000 and len(wave) == 16000 and info.subtype == 'PCM_16'
    assert np.abs(wave).max() == pytest.approx(0.9, abs=1e-3)
    spec = np.load(osp.join(root, sample['paths']['audio_spec']))
    assert spec.dtype == np.float32 and spec.shape[0] == 64
    np.testing.assert_allclose(spec, log_mel_spectrogram(wave), atol=1e-5)
    frames = sorted(os.listdir(osp.join(root, sample['paths']['visual'])))
    assert frames == ['frame_0000.jpg', 'frame_0001.jpg']
    import cv2
    img = cv2.imread(osp.join(root, sample['paths']['visual'], frames[0]))
    assert img.shape == (32, 32, 3)


@needs_espeak
def test_labels_balanced(espeak_build):
    root, _ = espeak_build
    for split, ann in _annotations(root).items():
        counts = Counter(d['gt_label'] for d in ann['data_list'])
        assert set(counts) == set(range(10))
        assert len(set(counts.values())) == 1, (split, counts)


@needs_espeak
def test_images_and_voices_disjoint(espeak_build):
    root, meta = espeak_build
    anns = _annotations(root)
    images = {s: {d['image_index'] for d in anns[s]['data_list']}
              for s in SPLITS}
    voices = {s: {d['voice'] for d in anns[s]['data_list']} for s in SPLITS}
    for a, b in (('train', 'val'), ('train', 'test'), ('val', 'test')):
        assert not images[a] & images[b]
        assert not voices[a] & voices[b]
        assert not set(meta['voices'][a]) & set(meta['voices'][b])
    assert sum(len(v) for v in meta['voices'].values()) == 104


@needs_espeak
def test_rebuild_is_byte_identical(espeak_build, tmp_path):
    root, _ = espeak_build
    again = str(tmp_path / 'avdigits_b')
    build_avdigits(again, **TINY)
    first, second = _tree_hashes(root), _tree_hashes(again)
    assert len(first) == 1 + 3 + 50 * (2 + 2)  # meta, anns, wav+npy+2 jpg
    assert first == second


@pytest.mark.skipif(not (osp.isfile(MNIST) and osp.isdir(FSDD)),
                    reason=f'shared data not found under {SHARED}')
def test_mnist_fsdd_speaker_disjoint(tmp_path):
    root = str(tmp_path / 'mnist_fsdd')
    meta = build_avdigits(root, visual_source='mnist', mnist_path=MNIST,
                          audio_source='fsdd', fsdd_path=FSDD, **TINY)
    assert meta['name'] == 'AV-Digits (MNIST-10k subset)'
    assert meta['speakers'] == {'train': ['george', 'jackson', 'nicolas'],
                                'val': ['yweweler'], 'test': ['theo']}
    anns = _annotations(root)
    speakers = {s: {d['speaker'] for d in anns[s]['data_list']}
                for s in SPLITS}
    assert speakers['train'] <= {'george', 'jackson', 'nicolas'}
    assert speakers['val'] == {'yweweler'} and speakers['test'] == {'theo'}
    images = {s: {d['image_index'] for d in anns[s]['data_list']}
              for s in SPLITS}
    assert not images['train'] & images['test']
    assert all(isinstance(d['take'], int) for d in anns['test']['data_list'])


@needs_espeak
def test_dataset_builds_then_rejects_other_params(tmp_path):
    from armlab.datasets.avdigits_dataset import AVDigitsDataset
    root = str(tmp_path / 'auto')
    cfg = dict(num_train=20, num_val=10, num_test=10, num_frames=1,
               progress=False)
    ds = AVDigitsDataset('test', data_root=root, build_cfg=cfg,
                         preset='complementary',
                         imbalance=dict(noise_seed=3))
    assert osp.isfile(osp.join(root, 'meta.json')) and len(ds) == 10
    info = ds.get_data_info(4)
    # The calibrated embedded-variant preset, with the override applied.
    assert info['imbalance'] == dict(
        get_preset('complementary', variant=('sklearn', 'espeak')),
        noise_seed=3, split='test')
    assert info['sample_idx'] == 4 and osp.isfile(info['audio_path'])
    assert AVDigitsDataset('val', data_root=root, build_cfg=cfg).split == 'val'
    with pytest.raises(ValueError, match='num_frames'):
        AVDigitsDataset('train', data_root=root,
                        build_cfg=dict(cfg, num_frames=3))
    with pytest.raises(ValueError, match='preset'):
        AVDigitsDataset('train', data_root=root, build_cfg=cfg,
                        preset='nope')

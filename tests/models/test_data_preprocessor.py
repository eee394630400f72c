"""MultimodalDataPreprocessor: stacking, normalisation, device transfer."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmpretrain.structures import DataSample

from armlab.models.data_preprocessors import MultimodalDataPreprocessor
from armlab.registry import DATASETS, MODELS


def _sample(label=0):
    ds = DataSample().set_gt_label(label)
    ds.set_metainfo(dict(modality_mask=torch.tensor([True, False]),
                         erased=torch.tensor([False, False])))
    return ds


def test_normalisation_against_hand_values():
    pre = MODELS.build(dict(type='MultimodalDataPreprocessor'))
    visual = [torch.full((3, 2, 4, 4), 100, dtype=torch.uint8),
              torch.stack([torch.full((2, 4, 4), v, dtype=torch.uint8)
                           for v in (0, 128, 255)])]
    audio = [torch.full((1, 5, 6), 2.5), torch.full((1, 5, 6), -1.0)]
    out = pre(dict(inputs=dict(audio=audio, visual=visual),
                   data_samples=[_sample(1), _sample(2)]))
    v, a = out['inputs']['visual'], out['inputs']['audio']
    assert v.shape == (2, 3, 2, 4, 4) and v.dtype == torch.float32
    mean = [123.675, 116.28, 103.53]
    std = [58.395, 57.12, 57.375]
    for c in range(3):
        expected0 = (100 - mean[c]) / std[c]
        expected1 = ((0, 128, 255)[c] - mean[c]) / std[c]
        assert torch.allclose(v[0, c], torch.full((2, 4, 4), expected0))
        assert torch.allclose(v[1, c], torch.full((2, 4, 4), expected1))
    # Audio has no statistics by default: stacked and cast only.
    assert a.shape == (2, 1, 5, 6) and a.dtype == torch.float32
    assert a[0].eq(2.5).all() and a[1].eq(-1.0).all()
    samples = out['data_samples']
    assert [s.gt_label.item() for s in samples] == [1, 2]
    assert samples[0].modality_mask.tolist() == [True, False]


def test_scalar_stats_and_passthrough():
    pre = MultimodalDataPreprocessor(
        modalities=dict(audio=dict(mean=1.0, std=2.0)))
    out = pre(dict(inputs=dict(audio=[torch.full((1, 2, 2), 5.0)],
                               text=[torch.tensor([1, 2])])))
    assert torch.allclose(out['inputs']['audio'], torch.full((1, 1, 2, 2),
                                                             2.0))
    assert out['inputs']['text'].dtype == torch.float32
    assert out['data_samples'] is None


def test_stacking_error_names_modality_and_shapes():
    pre = MultimodalDataPreprocessor()
    visual = [torch.zeros(3, 2, 4, 4, dtype=torch.uint8),
              torch.zeros(3, 2, 5, 4, dtype=torch.uint8)]
    audio = [torch.zeros(1, 2, 2)] * 2
    with pytest.raises(ValueError) as err:
        pre(dict(inputs=dict(audio=audio, visual=visual)))
    msg = str(err.value)
    assert "'visual'" in msg and '(3, 2, 4, 4)' in msg and '(3, 2, 5, 4)' in msg


def test_channel_mismatch_and_missing_modality():
    pre = MultimodalDataPreprocessor()
    with pytest.raises(ValueError, match="'visual' mean has 3 channels"):
        pre(dict(inputs=dict(audio=[torch.zeros(1, 2, 2)],
                             visual=[torch.zeros(1, 2, 4, 4)])))
    with pytest.raises(KeyError, match='visual'):
        pre(dict(inputs=dict(audio=[torch.zeros(1, 2, 2)])))
    with pytest.raises(ValueError, match='unknown keys'):
        MultimodalDataPreprocessor(dict(audio=dict(mu=0)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_moves_to_device():
    pre = MultimodalDataPreprocessor().cuda()
    out = pre(dict(inputs=dict(audio=[torch.zeros(1, 2, 2)],
                               visual=[torch.zeros(3, 1, 2, 2,
                                                   dtype=torch.uint8)]),
                   data_samples=[_sample()]))
    assert out['inputs']['visual'].is_cuda and out['inputs']['audio'].is_cuda
    sample = out['data_samples'][0]
    assert sample.gt_label.is_cuda and sample.modality_mask.is_cuda


def test_data_samples_stay_the_batch_own_and_are_not_copied():
    # BaseDataElement.to would build new samples with deep-copied metainfo
    # (a quarter of a CPU iteration on AV-Digits); the preprocessor moves
    # fields in place, so on the host nothing is copied.
    samples = [_sample(3), _sample(4)]
    samples[0].set_field([dict(type='Step')], 'deferred_note',
                         field_type='metainfo')
    mask = samples[0].modality_mask
    out = MultimodalDataPreprocessor()(dict(
        inputs=dict(audio=[torch.zeros(1, 2, 2)] * 2,
                    visual=[torch.zeros(3, 1, 2, 2, dtype=torch.uint8)] * 2),
        data_samples=samples))
    assert out['data_samples'][0] is samples[0]
    assert out['data_samples'][0].modality_mask is mask
    assert out['data_samples'][0].deferred_note is \
        samples[0].metainfo['deferred_note']
    assert [int(s.gt_label) for s in out['data_samples']] == [3, 4]
    # On a device the moved tensors replace the host ones in place.
    pre = MultimodalDataPreprocessor()
    pre._device = torch.device('meta')
    moved = pre.move_sample(_sample(5))
    assert moved.gt_label.device.type == 'meta'
    assert moved.modality_mask.device.type == 'meta'


def test_end_to_end_dataset_pipeline_preprocessor(tmp_path):
    """Annotation -> dataset -> pipeline -> collate -> preprocessor."""
    root = str(tmp_path)
    data_list = []
    for i in range(2):
        sid = f'train_{i:06d}'
        spec = osp.join(root, 'spec', 'train', f'{sid}.npy')
        frames = osp.join(root, 'frames', 'train', sid)
        os.makedirs(osp.dirname(spec), exist_ok=True)
        os.makedirs(frames)
        np.save(spec, np.full((8, 6), float(i), np.float32))
        for j in range(5):
            cv2.imwrite(osp.join(frames, f'frame_{j:04d}.jpg'),
                        np.full((16, 20, 3), 40 * j, np.uint8))
        data_list.append(dict(
            sample_id=sid, gt_label=['zero', 'one'][i],
            paths=dict(audio_spec=f'spec/train/{sid}.npy',
                       visual=f'frames/train/{sid}')))
    os.makedirs(osp.join(root, 'annotations'))
    with open(osp.join(root, 'annotations', 'train.json'), 'w') as f:
        json.dump(dict(metainfo=dict(classes=['zero', 'one']),
                       data_list=data_list), f)
    dataset = DATASETS.build(dict(
        type='MultimodalDataset', data_root=root,
        ann_file='annotations/train.json',
        pipeline=[
            dict(type='LoadSpectrogram'),
            dict(type='SampleFrames', num_frames=2, test_mode=True),
            dict(type='LoadFrames'),
            dict(type='FramesResize', size=8),
            dict(type='PackMultimodalInputs'),
        ]))
    batch = pseudo_collate([dataset[0], dataset[1]])
    out = MultimodalDataPreprocessor()(batch)
    assert out['inputs']['audio'].shape == (2, 1, 8, 6)
    assert out['inputs']['visual'].shape == (2, 3, 2, 8, 8)
    samples = out['data_samples']
    assert [s.sample_id for s in samples] == ['train_000000', 'train_000001']
    assert [s.sample_idx for s in samples] == [0, 1]
    assert [s.gt_label.item() for s in samples] == [0, 1]

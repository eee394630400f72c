"""Bad files: an error that names them, or, with skip_bad_samples=True, a
replacement sample, a warning, and a count per epoch (BadSampleHook)."""
import shutil

import pytest

from conftest import REPO, TINY_BUILD, run_tool, tiny_options

from armlab.datasets import AVDigitsDataset

PIPELINE = [dict(type='LoadAudio', key='audio', sample_rate=16000),
            dict(type='SampleFrames', key='visual', num_frames=3,
                 test_mode=True),
            dict(type='LoadFrames', key='visual'),
            dict(type='AudioSpectrogram', key='audio', kind='logmel',
                 sample_rate=16000, n_mels=16),
            dict(type='PackMultimodalInputs', modalities=('audio', ))]


@pytest.fixture
def damaged_root(tiny_root, tmp_path):
    """A copy of the tiny build with one corrupt WAV, truncated JPEGs (one clip) and
    one missing WAV in the train split."""
    root = tmp_path / 'avdigits'
    shutil.copytree(tiny_root, root)
    (root / 'audio' / 'train' / 'train_000003.wav').write_bytes(
        b'RIFF\x00\x00 this is no wave file')
    for jpg in (root / 'frames' / 'train' / 'train_000005').iterdir():
        jpg.write_bytes(jpg.read_bytes()[:20])
    (root / 'audio' / 'train' / 'train_000007.wav').unlink()
    return root


def dataset(root, **kwargs):
    return AVDigitsDataset(split='train', data_root=str(root),
                           build_cfg=TINY_BUILD, pipeline=PIPELINE, **kwargs)


def test_bad_files_are_errors_naming_them(damaged_root):
    with pytest.raises(FileNotFoundError, match='train_000007.wav'):
        dataset(damaged_root)
    ds = dataset(damaged_root, check_files=False)
    with pytest.raises(OSError, match='train_000003.wav'):
        ds[3]
    with pytest.raises(OSError, match=r'train_000005/frame_000\d.jpg'):
        ds[5]


def test_skipping_serves_the_next_good_sample(damaged_root):
    ds = dataset(damaged_root, skip_bad_samples=True)
    assert len(ds) == 59  # the sample with a missing file is dropped
    ids = [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]
    assert 'train_000007' not in ids
    out = ds[ids.index('train_000003')]
    assert out['data_samples'].sample_id == 'train_000004'
    assert out['data_samples'].skipped_samples == ['train_000003']
    assert 'skipped_samples' not in ds[0]['data_samples'].metainfo
    # Masked copies go through the same path.
    out = ds[(ids.index('train_000005'), (True, False))]
    assert out['data_samples'].skipped_samples == ['train_000005']


@pytest.mark.e2e
def test_training_counts_skipped_samples(damaged_root, tmp_path):
    config = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
    proc = run_tool('tools/train.py', config, '--work-dir', tmp_path / 'w',
                    '--cfg-options', *tiny_options(damaged_root, epochs=1),
                    'train_dataloader.dataset.skip_bad_samples=True')
    log = proc.stdout + proc.stderr
    assert 'dropped 1 sample(s) with missing files' in log
    assert 'train epoch 1: 2 bad sample(s) were skipped (2 distinct)' in log
    assert "['train_000003', 'train_000005']" in log
    from armlab.utils.scalars import epoch_series, load_scalars
    epochs, counts = epoch_series(load_scalars(tmp_path / 'w'),
                                  'data/skipped_samples')
    assert (epochs, counts) == ([1], [2])


def test_a_pipeline_bug_is_not_mistaken_for_bad_files(tiny_root):
    """Every sample failing in a row is a config error: raise it."""
    broken = PIPELINE[:-2] + [PIPELINE[-1]]  # no spectrogram: wrong shape
    ds = AVDigitsDataset(split='train', data_root=str(tiny_root),
                         build_cfg=TINY_BUILD, pipeline=broken,
                         skip_bad_samples=True)
    with pytest.raises(RuntimeError, match='in a row.*spectrogram'):
        ds[0]

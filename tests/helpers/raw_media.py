"""Tiny real media files for the preparation tests.

Each clip joins one AV-Digits sample's frames and speech (from the session's
``tiny_root`` build) into a short video with PyAV, in the container and
codecs the real dataset uses (.flv, .mp4, .avi), so the prepare scripts read
actual encoded media, not mocks.
"""
import json
from fractions import Fraction
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

import cv2
import numpy as np
import soundfile as sf

#: Video codec and audio codec per container.
CODECS = {'.mp4': ('mpeg4', 'aac'), '.flv': ('flv', 'aac'),
          '.avi': ('mpeg4', 'pcm_s16le'), '.mkv': ('mpeg4', 'aac')}


class Clip(NamedTuple):
    """One AV-Digits sample's media: RGB frames and int16 mono speech."""

    label: int
    frames: List[np.ndarray]
    wave: np.ndarray
    rate: int


def digit_clips(tiny_root, per_class: int = 2,
                labels: Sequence[int] = (0, 1, 2)) -> Dict[int, List[Clip]]:
    """``per_class`` clips of each digit in ``labels`` from a tiny build."""
    root = Path(tiny_root)
    entries = json.loads((root / 'annotations' / 'train.json').read_text()
                         )['data_list']
    clips: Dict[int, List[Clip]] = {label: [] for label in labels}
    for entry in entries:
        label = entry['gt_label']
        if label not in clips or len(clips[label]) >= per_class:
            continue
        folder = root / entry['paths']['visual']
        frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
                  for p in sorted(folder.glob('frame_*.jpg'))]
        wave, rate = sf.read(str(root / entry['paths']['audio']),
                             dtype='int16')
        clips[label].append(Clip(label, frames, wave, rate))
    short = {k: len(v) for k, v in clips.items() if len(v) < per_class}
    if short:
        raise ValueError(f'tiny build has too few clips of digits {short}')
    return clips


def write_video(path, clip: Clip, fps: int = 4, seconds: float = 1.0,
                with_audio: bool = True) -> Path:
    """Encode ``clip`` as a ``seconds``-long video at ``fps`` (frames cycled)
    with its speech as the audio track (or none)."""
    import av
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vcodec, acodec = CODECS[path.suffix]
    num = int(round(fps * seconds))
    with av.open(str(path), 'w') as container:
        video = container.add_stream(vcodec, rate=fps)
        height, width = clip.frames[0].shape[:2]
        video.width, video.height = width, height
        video.pix_fmt = 'yuv420p'
        audio = None
        if with_audio:
            audio = container.add_stream(acodec, rate=clip.rate,
                                         layout='mono')
        for i in range(num):
            frame = av.VideoFrame.from_ndarray(
                clip.frames[i % len(clip.frames)], format='rgb24')
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            _encode_audio(container, audio, clip, seconds)
    return path


def _encode_audio(container, stream, clip: Clip, seconds: float) -> None:
    import av
    wave = clip.wave[:int(round(seconds * clip.rate))]
    planar = stream.codec_context.format.name.endswith('p') or \
        stream.codec_context.format.name == 'fltp'
    size = stream.codec_context.frame_size or 1024
    for start in range(0, len(wave), size):
        chunk = wave[start:start + size]
        if stream.codec_context.format.name == 'fltp':
            frame = av.AudioFrame.from_ndarray(
                (chunk.astype(np.float32) / 32768.0)[None], format='fltp',
                layout='mono')
        else:
            frame = av.AudioFrame.from_ndarray(
                chunk[None], format='s16p' if planar else 's16',
                layout='mono')
        frame.sample_rate = clip.rate
        frame.pts = start
        frame.time_base = Fraction(1, clip.rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def write_wav(path, clip: Clip) -> Path:
    """The clip's speech as a 16-bit PCM WAV (CREMA-D's AudioWAV/)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), clip.wave, clip.rate, subtype='PCM_16')
    return path


def corrupt(path, keep: Optional[float] = None) -> Path:
    """Truncate a media file to its first ``keep`` fraction (default 0.3;
    0.05 for AVI, whose demuxer cannot tell a truncated file from a short
    one once its index is cut off)."""
    path = Path(path)
    if keep is None:
        keep = 0.05 if path.suffix == '.avi' else 0.3
    data = path.read_bytes()
    path.write_bytes(data[:max(1, int(len(data) * keep))])
    return path


def mtimes(root, patterns: Sequence[str] = ('frames/*/*/*.jpg',
                                            'audio/*/*.wav',
                                            'spec/*/*.npy')
           ) -> Dict[str, int]:
    """Modification times (ns) of every prepared file under ``root``."""
    root = Path(root)
    return {str(p.relative_to(root)): p.stat().st_mtime_ns
            for pattern in patterns for p in root.glob(pattern)}


def make_layout(folder, clips: Dict[int, List[Clip]], name_of,
                suffix: str = '.mp4', audio_of=None,
                corrupt_first: Optional[int] = None) -> List[Path]:
    """Write every clip as ``folder / name_of(label, i, suffix)``; optionally
    truncate the first clip of class ``corrupt_first``."""
    written = []
    for label, items in clips.items():
        for i, clip in enumerate(items):
            path = write_video(Path(folder) / name_of(label, i, suffix), clip,
                               with_audio=audio_of is None or
                               audio_of(label, i))
            if corrupt_first == label and i == 0:
                corrupt(path)
            written.append(path)
    return written


def load_tool(name: str):
    """Import ``tools/data/<name>.py`` as a module (to call its functions
    in-process where a subprocess would only add start-up time)."""
    from conftest import load_tool as load
    return load(f'tools/data/{name}.py')


LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def tiny_av_options(root, epochs: int = 1, frame_size: int = 16,
                    train_batch: int = 2) -> list:
    """--cfg-options that shrink a configs/joint/*_<dataset>.py config for a
    CPU test: data at ``root``, width-4 encoders, batches of 2 in the main
    process (``train_batch`` in training: pick it so that no batch of one
    is left), frames cropped/resized to ``frame_size`` (pipeline entry 3 is
    the crop in training and the resize at test), ``epochs`` epochs."""
    opts = []
    for name in LOADERS:
        opts += [f'{name}.dataset.data_root={root}', f'{name}.batch_size=2',
                 f'{name}.num_workers=0', f'{name}.persistent_workers=False',
                 f'{name}.dataset.pipeline.3.size={frame_size}']
    # A training batch of one would break BatchNorm on 1 x 1 feature maps.
    opts.append(f'train_dataloader.batch_size={train_batch}')
    opts += [f'model.encoders.{m}.base_channels=4'
             for m in ('audio', 'visual')]
    opts += [f'train_cfg.max_epochs={epochs}',
             'default_hooks.logger.interval=1']
    return opts


def train_one_epoch(dataset: str, root, work_dir, train_batch: int) -> None:
    """Train ``configs/joint/joint_concat_resnet18_<dataset>.py`` for one
    epoch on the prepared ``root`` through tools/train.py (in this
    process), and check that
    it validated with per-modality metrics and saved its checkpoint."""
    from conftest import REPO, train_in_process

    from armlab.utils.scalars import load_scalars
    config = REPO / 'configs' / 'joint' / f'joint_concat_resnet18_{dataset}.py'
    train_in_process(config, work_dir, '--cfg-options',
                     *tiny_av_options(root, train_batch=train_batch))
    assert (Path(work_dir) / 'epoch_1.pth').is_file()
    val = [r for r in load_scalars(work_dir) if 'accuracy/top1' in r]
    assert len(val) == 1
    assert {'acc_audio_mask', 'acc_visual_mask'} <= set(val[0])


def check_prepared(root, classes: Sequence[str], counts: Dict[str, int],
                   spec_shape=None) -> Dict[str, list]:
    """Assert the prepared layout: annotation files with ``counts`` samples
    per split and the ``classes``, splits disjoint, every referenced path
    present, the spectrogram shape; returns split -> data_list."""
    root = Path(root)
    lists = {}
    for split in ('train', 'val', 'test'):
        ann = json.loads((root / 'annotations' / f'{split}.json')
                         .read_text())
        assert ann['metainfo']['classes'] == list(classes)
        assert ann['metainfo']['modalities'] == ['audio', 'visual']
        lists[split] = ann['data_list']
        for entry in ann['data_list']:
            assert 0 <= entry['gt_label'] < len(classes)
            for key, rel in entry['paths'].items():
                assert (root / rel).exists(), (split, key, rel)
            frames = sorted((root / entry['paths']['visual']).iterdir())
            assert frames and frames[0].name == 'frame_0000.jpg'
            if spec_shape is not None:
                spec = np.load(root / entry['paths']['audio_spec'])
                assert spec.shape == tuple(spec_shape)
            info = sf.info(str(root / entry['paths']['audio']))
            assert info.channels == 1 and info.subtype == 'PCM_16'
    assert {s: len(v) for s, v in lists.items()} == counts
    ids = {s: {e['sample_id'] for e in v} for s, v in lists.items()}
    assert not ids['train'] & ids['val'] and not ids['train'] & ids['test'] \
        and not ids['val'] & ids['test']
    meta = json.loads((root / 'meta.json').read_text())
    assert meta['counts'] == counts and meta['classes'] == list(classes)
    return lists


def read_through_config(root, dataset: str) -> dict:
    """The first test sample of a prepared ``root``, read by the test loader
    of ``configs/_base_/datasets/<dataset>.py``: the prepared layout and the
    config's frame count and spectrogram shape must agree."""
    from mmengine.config import Config

    from armlab.registry import DATASETS
    from armlab.utils.setup_env import register_all_modules
    register_all_modules()
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(str(repo / 'configs' / '_base_' / 'datasets' /
                              f'{dataset}.py'))
    ds_cfg = dict(cfg.test_dataloader.dataset, data_root=str(root))
    return DATASETS.build(ds_cfg)[0]

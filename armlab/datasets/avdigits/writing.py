"""AV-Digits' files: one sample's WAV, spectrogram cache and frames, the
annotation files, the output folders.

The sample writer is a module-level function of one picklable task, so the
preparation runner (``armlab/datasets/preparation/parallel.py``) can run it
in any process; it writes with the preparation writers (temporary name, then
rename), so an interrupted build leaves no half-written file.
"""
import os
import shutil
from typing import Any, Dict, List, NamedTuple, Tuple

import numpy as np

from armlab.datasets.preparation.media import write_frames, write_npy, write_wav
from .planning import SPLITS
from .sources import DIGIT_WORDS
from .synthesis import prepare_audio, render_frames

JPEG_QUALITY = 95


class SampleTask(NamedTuple):
    """Everything needed to write one sample, picklable for a worker."""

    split: str
    sample_id: str
    raw: np.ndarray
    raw_rate: int
    offset_u: float
    image: np.ndarray
    path_u: np.ndarray


class WriteSettings(NamedTuple):
    out_dir: str
    sample_rate: int
    window_s: float
    digit: Tuple[int, int]
    canvas: int
    num_frames: int


def write_sample(task: SampleTask, settings: WriteSettings) -> bool:
    """Write one sample's WAV, spectrogram cache and JPEG frames; return
    whether its utterance had to be cropped to the window."""
    from armlab.datasets.transforms.audio_features import log_mel_spectrogram
    wave, cropped = prepare_audio(task.raw, task.raw_rate,
                                  settings.sample_rate, settings.window_s,
                                  task.offset_u)
    out_dir, split, sid = settings.out_dir, task.split, task.sample_id
    write_wav(wave, os.path.join(out_dir, 'audio', split, f'{sid}.wav'),
              settings.sample_rate)
    # The spectrogram of what a loader reads back from the int16 WAV.
    spec = log_mel_spectrogram(wave.astype(np.float32) / 32768.0,
                               sample_rate=settings.sample_rate)
    write_npy(spec, os.path.join(out_dir, 'spec', split, f'{sid}.npy'))
    # Grey frames (three equal channels): RGB and BGR are the same bytes.
    write_frames(render_frames(task.image, settings.digit, settings.canvas,
                               settings.num_frames, task.path_u),
                 os.path.join(out_dir, 'frames', split, sid),
                 quality=JPEG_QUALITY)
    return cropped


def reset_outputs(out_dir: str) -> None:
    """Empty the generated folders (and meta.json, written last)."""
    for sub in ('annotations', 'audio', 'spec', 'frames'):
        shutil.rmtree(os.path.join(out_dir, sub), ignore_errors=True)
    meta = os.path.join(out_dir, 'meta.json')
    if os.path.exists(meta):
        os.remove(meta)
    for sub in ('annotations',) + tuple(
            os.path.join(kind, split) for kind in ('audio', 'spec', 'frames')
            for split in SPLITS):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)


def annotation(plan: List[Dict[str, Any]], audio_source: str
               ) -> Dict[str, Any]:
    """One split's annotation file (mmengine's JSON, docs/design.md)."""
    data_list = []
    for s in plan:
        split, sid = s['split'], s['sample_id']
        entry = {
            'sample_id': sid,
            'gt_label': s['gt_label'],
            'paths': {'audio': f'audio/{split}/{sid}.wav',
                      'audio_spec': f'spec/{split}/{sid}.npy',
                      'visual': f'frames/{split}/{sid}'},
            'image_index': s['image_index'],
        }
        if audio_source == 'espeak':
            entry.update(voice=s['voice'], pitch=s['pitch'], rate=s['rate'],
                         take=None)
        else:
            entry.update(speaker=s['speaker'], take=s['take'])
        data_list.append(entry)
    return {'metainfo': metainfo(), 'data_list': data_list}


def metainfo() -> Dict[str, Any]:
    return {'dataset': 'AV-Digits', 'classes': list(DIGIT_WORDS),
            'modalities': ['audio', 'visual']}

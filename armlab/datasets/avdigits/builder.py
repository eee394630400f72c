"""Build AV-Digits, the embedded audio-visual digits benchmark, offline.

Every pair joins a real digit image (drifting over T frames) with a spoken
digit of the same class. Images, voices and speakers are disjoint across
train / val / test, labels are balanced, and everything random comes from one
``numpy.random.default_rng(seed)`` consumed in a fixed order, so two builds
with the same arguments are byte-identical (docs/avdigits.md). The layout is
the one of ``docs/design.md``; the imbalance knobs are applied later, at load
time, by :class:`armlab.datasets.transforms.imbalance.AVDigitsImbalance`.

This module runs a build: the plan (``planning.py``), each sample's media
(``synthesis.py``) and files (``writing.py``), written by the preparation
runner (``armlab/datasets/preparation/parallel.py``), then the annotations
and ``meta.json``.
"""
import hashlib
import json
import os
from typing import Any, Dict, Iterator, Optional

import numpy as np

from armlab.datasets.preparation.annotations import (package_versions,
                                                     write_json_atomic)
from armlab.datasets.preparation.parallel import Job, run_jobs
from .planning import SPLITS, plan_split, split_images, split_list
from .sources import list_fsdd, load_visual_source, split_fsdd
from .synthesis import fit_digit_size, raw_audio
from .writing import (SampleTask, WriteSettings, annotation, metainfo,
                      reset_outputs, write_sample)

GENERATOR_VERSION = '1.0'
#: Build parameters that name inputs by path: recorded, but two builds from
#: the same data found at different paths count as the same build.
PATH_PARAMS = ('mnist_path', 'fsdd_path')
#: Packages whose output ends up in the files (recorded in meta.json).
BUILD_PACKAGES = ('numpy', 'scipy', 'scikit-learn', 'opencv-python',
                  'opencv-python-headless', 'soundfile', 'librosa',
                  'espeakng-loader')
#: Arguments of build_avdigits that change how, not what, is built.
_RUN_OPTIONS = ('progress', 'num_workers')
_PARALLEL_MIN_SAMPLES = 2000


def build_avdigits(out_dir: str, *,
                   num_train: int = 7000,
                   num_val: int = 1000,
                   num_test: int = 2000,
                   num_frames: int = 3,
                   canvas: int = 32,
                   window_s: float = 1.0,
                   sample_rate: int = 16000,
                   visual_source: str = 'sklearn',
                   mnist_path: Optional[str] = None,
                   audio_source: str = 'espeak',
                   fsdd_path: Optional[str] = None,
                   fsdd_split: str = 'speaker',
                   seed: int = 0,
                   progress: bool = True,
                   num_workers: Optional[int] = None) -> Dict[str, Any]:
    """Generate AV-Digits into ``out_dir`` and return its metadata.

    ``annotations/``, ``audio/``, ``spec/`` and ``frames/`` of ``out_dir``
    are replaced; ``meta.json`` is written last, so a folder without it is an
    unfinished build.

    Args:
        out_dir: Output folder (the dataset's ``data_root``).
        num_train: Number of training pairs.
        num_val: Number of validation pairs.
        num_test: Number of test pairs.
        num_frames: Frames T per sample (1 for CI, 3 for CREMA-D parity).
        canvas: Side of the square black canvas the digit drifts on.
        window_s: Audio window in seconds; longer clips are cropped around
            their energy peak (counted in the metadata).
        sample_rate: Output audio rate in Hz.
        visual_source: ``'sklearn'`` (built in) or ``'mnist'``.
        mnist_path: ``.npz`` with ``images`` and ``labels`` for ``'mnist'``.
        audio_source: ``'espeak'`` (synthetic speech) or ``'fsdd'`` (human).
        fsdd_path: FSDD folder (or its ``recordings`` folder) for ``'fsdd'``.
        fsdd_split: ``'speaker'`` (speaker-disjoint, default) or ``'take'``.
        seed: Seed of the one random generator of the build.
        progress: Show a tqdm progress bar.
        num_workers: Processes that write samples (not a build parameter:
            the output is the same for any number). Default: up to 2 for
            builds of 2,000 pairs or more, else 0 (in this process).

    Returns:
        The metadata also written to ``meta.json``.
    """
    params = build_params(
        num_train=num_train, num_val=num_val, num_test=num_test,
        num_frames=num_frames, canvas=canvas, window_s=window_s,
        sample_rate=sample_rate, visual_source=visual_source,
        mnist_path=mnist_path, audio_source=audio_source,
        fsdd_path=fsdd_path, fsdd_split=fsdd_split, seed=seed)
    sizes = dict(zip(SPLITS, (num_train, num_val, num_test)))
    rng = np.random.default_rng(seed)

    # The order of the random draws below is part of the benchmark.
    visual = load_visual_source(visual_source, mnist_path)
    image_pools = split_images(visual['labels'], rng)
    if audio_source == 'espeak':
        from .espeak import list_english_voices
        audio_pools: Dict[str, list] = split_list(list_english_voices(), rng)
    elif audio_source == 'fsdd':
        if not fsdd_path:
            raise ValueError("audio_source='fsdd' needs fsdd_path")
        audio_pools = split_fsdd(list_fsdd(fsdd_path), fsdd_split)
    else:
        raise ValueError(f"unknown audio_source {audio_source!r}; use "
                         "'espeak' or 'fsdd'")
    plans = {
        split: plan_split(split, sizes[split], image_pools[split],
                          audio_pools[split], audio_source, rng)
        for split in SPLITS
    }

    reset_outputs(out_dir)
    samples = [s for split in SPLITS for s in plans[split]]
    settings = WriteSettings(out_dir, sample_rate, window_s,
                             fit_digit_size(visual['images'].shape[1:],
                                            canvas), canvas, num_frames)
    jobs = _sample_jobs(samples, visual['images'], settings, audio_source,
                        seed)
    if num_workers is None:
        num_workers = min(2, os.cpu_count() or 1) \
            if len(samples) >= _PARALLEL_MIN_SAMPLES else 0
    # spawn: a build may start inside a training process whose torch threads
    # a forked worker would inherit.
    report = run_jobs(write_sample, jobs, stage='AV-Digits',
                      workers=num_workers, progress=progress,
                      skip_existing=False, total=len(samples),
                      start_method='spawn')
    if report.failures:
        first = report.failures[0]
        raise RuntimeError(
            f'AV-Digits build at {out_dir}: {len(report.failures)} sample(s) '
            f"failed, e.g. {first['key']}: {first['error']}")
    cropped = {split: 0 for split in SPLITS}
    for key, was_cropped in report.results.items():
        cropped[key.split('/')[0]] += int(was_cropped)

    for split in SPLITS:
        write_json_atomic(
            os.path.join(out_dir, 'annotations', f'{split}.json'),
            annotation(plans[split], audio_source))
    meta = _metadata(params, sizes, cropped, audio_pools, audio_source)
    write_json_atomic(os.path.join(out_dir, 'meta.json'), meta)
    return meta


def _sample_jobs(samples, images: np.ndarray, settings: WriteSettings,
                 audio_source: str, seed: int) -> Iterator[Job]:
    """One job per sample, made as the runner asks for it (the raw
    utterances are synthesised or read in order, never all held)."""
    for s, (raw, raw_rate) in zip(samples,
                                  raw_audio(samples, audio_source, seed)):
        task = SampleTask(s['split'], s['sample_id'], raw, raw_rate,
                          s['offset_u'], images[s['image_index']], s['path_u'])
        yield Job(f"{s['split']}/{s['sample_id']}", (), (task, settings))


def build_params(**kwargs: Any) -> Dict[str, Any]:
    """Fill in the defaults of :func:`build_avdigits` and check the values.

    Used by the dataset to compare a requested build with an existing one.
    """
    import inspect
    signature = inspect.signature(build_avdigits)
    known = [n for n, p in signature.parameters.items()
             if p.kind == p.KEYWORD_ONLY and n not in _RUN_OPTIONS]
    unknown = sorted(set(kwargs) - set(known) - set(_RUN_OPTIONS))
    if unknown:
        raise ValueError(f'unknown AV-Digits build parameter(s) {unknown}; '
                         f'known: {known}')
    params = {n: kwargs.get(n, signature.parameters[n].default) for n in known}
    for name in ('num_train', 'num_val', 'num_test'):
        if int(params[name]) < 10:
            raise ValueError(f'{name}={params[name]} must be >= 10 (one '
                             'sample per class)')
    if int(params['num_frames']) < 1:
        raise ValueError(f"num_frames={params['num_frames']} must be >= 1")
    if float(params['window_s']) <= 0:
        raise ValueError(f"window_s={params['window_s']} must be > 0")
    params['window_s'] = float(params['window_s'])
    return params


# ----------------------------------------------------------------- metadata
def _backend(audio_source: str) -> str:
    if audio_source == 'espeak':
        from .espeak import backend_version
        return backend_version()
    return 'FSDD recordings (no synthesis)'


def _metadata(params: Dict[str, Any], sizes: Dict[str, int],
              cropped: Dict[str, int], audio_pools: Dict[str, list],
              audio_source: str) -> Dict[str, Any]:
    versions = package_versions(BUILD_PACKAGES)
    backend = _backend(audio_source)
    key_params = {k: v for k, v in params.items() if k not in PATH_PARAMS}
    key_source = json.dumps([GENERATOR_VERSION, backend, versions,
                             key_params], sort_keys=True)
    if audio_source == 'espeak':
        audio_split = {split: list(audio_pools[split]) for split in SPLITS}
        audio_desc = 'synthetic speech (espeak-ng)'
    else:
        audio_split = {split: sorted({r.speaker for r in audio_pools[split]})
                       for split in SPLITS}
        audio_desc = 'human speech (FSDD, CC BY-SA 4.0)'
    speaker_disjoint = audio_source == 'espeak' or \
        params['fsdd_split'] == 'speaker'
    visual_desc = ('AV-Digits (MNIST-10k subset)'
                   if params['visual_source'] == 'mnist'
                   else 'AV-Digits (scikit-learn digits)')
    return {
        **metainfo(),
        'name': visual_desc,
        'audio': audio_desc,
        'build': {
            'tool': 'armlab.datasets.avdigits.build_avdigits',
            'generator_version': GENERATOR_VERSION,
            'params': params,
            'backend': backend,
            'versions': versions,
            'build_key': hashlib.sha256(key_source.encode()).hexdigest(),
        },
        'counts': dict(sizes),
        'audio_clips_cropped': cropped,
        'voices' if audio_source == 'espeak' else 'speakers': audio_split,
        'voices_disjoint': speaker_disjoint,
    }

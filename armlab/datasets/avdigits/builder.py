"""Build AV-Digits, the embedded audio-visual digits benchmark, offline.

Every pair joins a real digit image (drifting over T frames) with a spoken
digit of the same class. Images, voices and speakers are disjoint across
train / val / test, labels are balanced, and everything random comes from one
``numpy.random.default_rng(seed)`` consumed in a fixed order, so two builds
with the same arguments are byte-identical (docs/avdigits.md). The layout is
the
one of ``docs/design.md``; the imbalance knobs are applied later, at load
time, by :class:`armlab.datasets.transforms.imbalance.AVDigitsImbalance`.
"""
import collections
import hashlib
import io
import json
import os
import shutil
from math import gcd
from typing import (Any, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np
from threadpoolctl import threadpool_limits

from armlab.utils.threads import limit_blas_threads
from .sources import (DIGIT_WORDS, FsddRecording, list_fsdd,
                      load_visual_source, read_fsdd, split_fsdd)

GENERATOR_VERSION = '1.0'
SPLITS = ('train', 'val', 'test')
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
PITCH_RANGE = (25, 75)  # inclusive, espeak-ng 0-100 scale
RATE_RANGE = (120, 220)  # inclusive, words per minute
TRIM_LEVEL = 0.01
PEAK_LEVEL = 0.9
JPEG_QUALITY = 95
#: Build parameters that name inputs by path: recorded, but two builds from
#: the same data found at different paths count as the same build.
PATH_PARAMS = ('mnist_path', 'fsdd_path')
#: Arguments of build_avdigits that change how, not what, is built.
_RUN_OPTIONS = ('progress', 'num_workers')
_PARALLEL_MIN_SAMPLES = 2000
_CHUNK = 250


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
    image_pools = _split_images(visual['labels'], rng)
    if audio_source == 'espeak':
        from .espeak import list_english_voices
        audio_pools: Dict[str, list] = _split_list(list_english_voices(), rng)
    elif audio_source == 'fsdd':
        if not fsdd_path:
            raise ValueError("audio_source='fsdd' needs fsdd_path")
        audio_pools = split_fsdd(list_fsdd(fsdd_path), fsdd_split)
    else:
        raise ValueError(f"unknown audio_source {audio_source!r}; use "
                         "'espeak' or 'fsdd'")
    plans = {
        split: _plan_split(split, sizes[split], image_pools[split],
                           audio_pools[split], audio_source, rng)
        for split in SPLITS
    }

    _reset_outputs(out_dir)
    digit = _fit_digit_size(visual['images'].shape[1:], canvas)
    samples = [s for split in SPLITS for s in plans[split]]
    tasks = (_Task(s['split'], s['sample_id'], raw, raw_rate, s['offset_u'],
                   visual['images'][s['image_index']], s['path_u'])
             for s, (raw, raw_rate) in zip(
                 samples, _raw_audio(samples, audio_source, seed)))
    settings = _WriteSettings(out_dir, sample_rate, window_s, digit, canvas,
                              num_frames)
    cropped = {split: 0 for split in SPLITS}
    bar = _progress(len(samples), progress)
    for chunk_cropped in _run_writers(tasks, settings, len(samples),
                                      num_workers):
        for split, was_cropped in chunk_cropped:
            cropped[split] += int(was_cropped)
        bar.update(len(chunk_cropped))
    bar.close()

    for split in SPLITS:
        _write_json(os.path.join(out_dir, 'annotations', f'{split}.json'),
                    _annotation(plans[split], audio_source))
    meta = _metadata(params, sizes, cropped, audio_pools, audio_source)
    _write_json(os.path.join(out_dir, 'meta.json'), meta)
    return meta


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


# ---------------------------------------------------------------- splitting
def _split_sizes(total: int) -> Tuple[int, int]:
    n_train = int(round(SPLIT_FRACTIONS[0] * total))
    n_val = int(round(SPLIT_FRACTIONS[1] * total))
    return n_train, n_val


def _split_list(items: Sequence, rng: np.random.Generator
                ) -> Dict[str, list]:
    """Seeded 70/10/20 split of a list, each split non-empty."""
    order = [items[i] for i in rng.permutation(len(items))]
    n_train, n_val = _split_sizes(len(order))
    n_val = max(n_val, 1)
    parts = {'train': order[:n_train], 'val': order[n_train:n_train + n_val],
             'test': order[n_train + n_val:]}
    for split, part in parts.items():
        if not part:
            raise ValueError(f'too few items ({len(items)}) to give the '
                             f'{split} split one')
    return parts


def _split_images(labels: np.ndarray, rng: np.random.Generator
                  ) -> Dict[str, List[np.ndarray]]:
    """Per class, a seeded permutation cut 70/10/20: split -> class pools."""
    pools: Dict[str, List[np.ndarray]] = {split: [] for split in SPLITS}
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) < 3:
            raise ValueError(f'visual source has {len(members)} images of '
                             f'digit {digit}; need at least 3')
        parts = _split_list(members.tolist(), rng)
        for split in SPLITS:
            pools[split].append(np.asarray(parts[split], np.int64))
    return pools


def _plan_split(split: str, num: int, image_pools: List[np.ndarray],
                audio_pool: list, audio_source: str,
                rng: np.random.Generator) -> List[Dict[str, Any]]:
    """Draw every random choice of one split, in a fixed order."""
    labels = rng.permutation(np.arange(num) % 10)
    if audio_source == 'espeak':
        voice_idx = rng.integers(len(audio_pool), size=num)
        pitch = rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1, size=num)
        rate = rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1, size=num)
    else:
        by_digit = [[r for r in audio_pool if r.digit == d]
                    for d in range(10)]
        rec_u = rng.random(num)
    offset_u = rng.random(num)
    path_u = rng.random((num, 4))

    used = [0] * 10
    plan = []
    for i, label in enumerate(labels.tolist()):
        pool = image_pools[label]  # cycled once exhausted
        sample = dict(split=split, sample_id=f'{split}_{i:06d}',
                      gt_label=label,
                      image_index=int(pool[used[label] % len(pool)]),
                      offset_u=float(offset_u[i]), path_u=path_u[i])
        used[label] += 1
        if audio_source == 'espeak':
            sample.update(voice=audio_pool[int(voice_idx[i])],
                          pitch=int(pitch[i]), rate=int(rate[i]))
        else:
            recs = by_digit[label]
            rec: FsddRecording = recs[int(rec_u[i] * len(recs))]
            sample.update(speaker=rec.speaker, take=rec.take,
                          recording=rec)
        plan.append(sample)
    return plan


# -------------------------------------------------------------------- audio
def _raw_audio(samples: List[Dict[str, Any]], audio_source: str,
               seed: int) -> Iterator[Tuple[np.ndarray, int]]:
    """Yield each sample's raw float32 utterance and its rate, in order."""
    if audio_source == 'espeak':
        from .espeak import synthesize_in_fresh_process
        jobs = [(DIGIT_WORDS[s['gt_label']], s['voice'], s['rate'],
                 s['pitch']) for s in samples]
        for rate, wave in synthesize_in_fresh_process(jobs, seed):
            yield wave.astype(np.float32) / 32768.0, rate
    else:
        cache: Dict[str, Tuple[np.ndarray, int]] = {}
        for sample in samples:
            rec = sample['recording']
            if rec.path not in cache:
                cache[rec.path] = read_fsdd(rec)
            yield cache[rec.path]


def _resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return wave
    from scipy.signal import resample_poly
    common = gcd(int(rate), int(target))
    return resample_poly(wave, target // common, rate // common)


def _trim(wave: np.ndarray, level: float = TRIM_LEVEL) -> np.ndarray:
    loud = np.flatnonzero(np.abs(wave) >= level)
    if len(loud) == 0:
        return wave[:0]
    return wave[loud[0]:loud[-1] + 1]


def _prepare_audio(raw: np.ndarray, raw_rate: int, rate: int,
                   window_s: float, offset_u: float
                   ) -> Tuple[np.ndarray, bool]:
    """Resample, trim, place in the window, peak-normalise; int16 out.

    Returns:
        The int16 window and whether the clip had to be cropped.
    """
    clip = _trim(_resample(raw, raw_rate, rate).astype(np.float64))
    length = int(round(window_s * rate))
    window = np.zeros(length, np.float64)
    cropped = len(clip) > length
    if cropped:  # keep the loudest window-long stretch
        energy = np.concatenate([[0.0], np.cumsum(clip ** 2)])
        start = int(np.argmax(energy[length:] - energy[:-length]))
        window[:] = clip[start:start + length]
    else:
        offset = int(offset_u * (length - len(clip) + 1))
        window[offset:offset + len(clip)] = clip
    peak = np.abs(window).max()
    if peak > 0:
        window *= PEAK_LEVEL / peak
    return np.round(window * 32767).astype(np.int16), cropped


# ------------------------------------------------------------------- frames
def _fit_digit_size(shape: Sequence[int], canvas: int) -> Tuple[int, int]:
    """Digit size on the canvas: x2 when it leaves room to drift, shrunk
    when it does not fit."""
    height, width = int(shape[0]), int(shape[1])
    if 2 * max(height, width) * 2 <= canvas:
        return 2 * height, 2 * width
    if max(height, width) > canvas:
        scale = canvas / max(height, width)
        return int(height * scale), int(width * scale)
    return height, width


def render_frames(image: np.ndarray, digit: Tuple[int, int], canvas: int,
                  num_frames: int, path_u: np.ndarray) -> List[np.ndarray]:
    """Draw the digit drifting along a straight line over T frames.

    Args:
        image: uint8 (H, W) grey digit.
        digit: (height, width) of the digit on the canvas.
        canvas: Canvas side.
        num_frames: T.
        path_u: Four uniforms in [0, 1): start (y, x) and end (y, x).

    Returns:
        T uint8 (canvas, canvas, 3) frames, grey replicated to 3 channels.
    """
    import cv2
    if image.shape != digit:
        image = cv2.resize(image, (digit[1], digit[0]),
                           interpolation=cv2.INTER_AREA)
    room = np.array([canvas - digit[0], canvas - digit[1]] * 2, np.float64)
    start_end = np.floor(path_u * (room + 1))
    frames = []
    for t in range(num_frames):
        frac = t / (num_frames - 1) if num_frames > 1 else 0.0
        y, x = np.round(start_end[:2] + frac * (start_end[2:] -
                                                start_end[:2])).astype(int)
        frame = np.zeros((canvas, canvas), np.uint8)
        frame[y:y + digit[0], x:x + digit[1]] = image
        frames.append(np.repeat(frame[:, :, None], 3, axis=2))
    return frames


# ------------------------------------------------------------------- output
class _Task(NamedTuple):
    """Everything needed to write one sample, picklable for a worker."""

    split: str
    sample_id: str
    raw: np.ndarray
    raw_rate: int
    offset_u: float
    image: np.ndarray
    path_u: np.ndarray


class _WriteSettings(NamedTuple):
    out_dir: str
    sample_rate: int
    window_s: float
    digit: Tuple[int, int]
    canvas: int
    num_frames: int


def _write_chunk(tasks: List[_Task], settings: _WriteSettings
                 ) -> List[Tuple[str, bool]]:
    """Write a chunk of samples; return (split, cropped) per sample."""
    out = []
    for task in tasks:
        wave, was_cropped = _prepare_audio(task.raw, task.raw_rate,
                                           settings.sample_rate,
                                           settings.window_s, task.offset_u)
        _write_sample(settings, task, wave)
        out.append((task.split, was_cropped))
    return out


def _chunks(tasks: Iterator[_Task], size: int) -> Iterator[List[_Task]]:
    chunk: List[_Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_writers(tasks: Iterator[_Task], settings: _WriteSettings,
                 total: int, num_workers: Optional[int]
                 ) -> Iterator[List[Tuple[str, bool]]]:
    """Write all samples, in this process or in a few spawned ones.

    Each file depends only on its own sample, so the output is the same for
    any number of workers; at most two chunks per worker are in flight to
    bound memory.
    """
    if num_workers is None:
        num_workers = min(2, os.cpu_count() or 1) \
            if total >= _PARALLEL_MIN_SAMPLES else 0
    if num_workers <= 0:
        # Spinning BLAS threads slow the spectrograms (armlab.utils.threads).
        with threadpool_limits(limits=1, user_api='blas'):
            for chunk in _chunks(tasks, _CHUNK):
                yield _write_chunk(chunk, settings)
        return
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    with context.Pool(num_workers, initializer=limit_blas_threads) as pool:
        pending: collections.deque = collections.deque()
        for chunk in _chunks(tasks, _CHUNK):
            pending.append(pool.apply_async(_write_chunk, (chunk, settings)))
            while len(pending) >= 2 * num_workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _reset_outputs(out_dir: str) -> None:
    for sub in ('annotations', 'audio', 'spec', 'frames'):
        shutil.rmtree(os.path.join(out_dir, sub), ignore_errors=True)
    meta = os.path.join(out_dir, 'meta.json')
    if os.path.exists(meta):
        os.remove(meta)
    for sub in ('annotations',) + tuple(
            os.path.join(kind, split) for kind in ('audio', 'spec', 'frames')
            for split in SPLITS):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)


def _write_sample(settings: _WriteSettings, task: _Task,
                  wave: np.ndarray) -> None:
    """Write one sample's WAV, spectrogram cache and JPEG frames."""
    import cv2
    import soundfile as sf
    from armlab.datasets.transforms.audio_features import log_mel_spectrogram
    out_dir, rate = settings.out_dir, settings.sample_rate
    split, sid = task.split, task.sample_id
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, subtype='PCM_16', format='WAV')
    _write_bytes(os.path.join(out_dir, 'audio', split, f'{sid}.wav'),
                 buffer.getvalue())
    # The spectrogram of what a loader reads back from the int16 WAV.
    spec = log_mel_spectrogram(wave.astype(np.float32) / 32768.0,
                               sample_rate=rate)
    np.save(os.path.join(out_dir, 'spec', split, f'{sid}.npy'), spec)
    folder = os.path.join(out_dir, 'frames', split, sid)
    os.makedirs(folder, exist_ok=True)
    frames = render_frames(task.image, settings.digit, settings.canvas,
                           settings.num_frames, task.path_u)
    for t, frame in enumerate(frames):
        ok, data = cv2.imencode('.jpg', frame,
                                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {folder}')
        _write_bytes(os.path.join(folder, f'frame_{t:04d}.jpg'),
                     data.tobytes())


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, 'wb') as f:
        f.write(data)


def _write_json(path: str, obj: Any) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write('\n')


def _annotation(plan: List[Dict[str, Any]], audio_source: str
                ) -> Dict[str, Any]:
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
    return {'metainfo': _metainfo(), 'data_list': data_list}


def _metainfo() -> Dict[str, Any]:
    return {'dataset': 'AV-Digits', 'classes': list(DIGIT_WORDS),
            'modalities': ['audio', 'visual']}


# ----------------------------------------------------------------- metadata
def package_versions() -> Dict[str, str]:
    """Versions of the packages whose output ends up in the files."""
    from importlib.metadata import PackageNotFoundError, version
    versions = {}
    for name in ('numpy', 'scipy', 'scikit-learn', 'opencv-python',
                 'opencv-python-headless', 'soundfile', 'librosa',
                 'espeakng-loader'):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def _backend(audio_source: str) -> str:
    if audio_source == 'espeak':
        from .espeak import backend_version
        return backend_version()
    return 'FSDD recordings (no synthesis)'


def _metadata(params: Dict[str, Any], sizes: Dict[str, int],
              cropped: Dict[str, int], audio_pools: Dict[str, list],
              audio_source: str) -> Dict[str, Any]:
    versions = package_versions()
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
        **_metainfo(),
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


def _progress(total: int, enabled: bool):
    if enabled:
        from tqdm import tqdm
        return tqdm(total=total, desc='AV-Digits', unit='pair')

    class _Silent:
        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass
    return _Silent()

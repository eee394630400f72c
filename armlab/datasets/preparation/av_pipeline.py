"""The steps every audio-visual ``prepare_<dataset>.py`` shares.

A prepare script only knows its dataset's raw layout and split rule: it
lists samples (id, class, split, video, where the audio comes from) and
hands them here; this module extracts frames, WAVs and spectrograms through
the resumable runner, drops and reports the samples whose media failed, and
writes the annotation files and ``meta.json``.
"""
import argparse
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .annotations import write_annotations, write_json_atomic
from .frontends import (FRONT_ENDS, get_front_end, warm_up_librosa,
                        write_front_end)
from .media import extract_audio, extract_frames
from .parallel import Job, RunReport, run_jobs, write_failures

__all__ = ['SPLITS', 'add_common_args', 'check_params', 'index_videos',
           'report_missing',
           'extract_samples', 'write_dataset', 'run_preparation']

SPLITS = ('train', 'val', 'test')
#: Version of the preparation recipe; bump when outputs change.
PREPARATION_VERSION = '1.0'
#: Arguments that change the files written, checked on resume.
OUTPUT_PARAMS = ('fps', 'sample_rate', 'front_end', 'short_side')


def add_common_args(parser: argparse.ArgumentParser,
                    front_end: str) -> argparse.ArgumentParser:
    """The options every prepare script takes."""
    parser.add_argument('--raw', required=True,
                        help='the dataset as its authors distribute it')
    parser.add_argument('--out', required=True,
                        help='output folder (the data_root of the config)')
    parser.add_argument('--fps', type=float, default=1.0,
                        help='frames extracted per second (default 1)')
    parser.add_argument('--short-side', type=int, default=None,
                        help='resize frames to this shorter side (default: '
                        'keep the video size)')
    parser.add_argument('--sample-rate', type=int, default=16000,
                        help='rate of the WAVs written (default 16000); the '
                        'front-end resamples as its reference does')
    parser.add_argument('--front-end', default=front_end,
                        choices=sorted(FRONT_ENDS),
                        help=f'cached spectrogram (default {front_end})')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='worker processes (0: in this process)')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument('--backend', default='auto',
                        choices=('auto', 'pyav', 'ffmpeg'),
                        help='video decoder (auto: PyAV, else ffmpeg)')
    parser.add_argument('--no-progress', action='store_true')
    return parser


def check_params(out_dir: str, params: Mapping[str, Any]) -> None:
    """Refuse to resume into a folder prepared with other output settings.

    Why: resuming skips every output that exists, so a second run with
    another ``--fps`` or ``--front-end`` would silently mix two recipes.
    The settings are recorded in ``<out>/prepare_params.json`` on the first
    run.
    """
    path = osp.join(out_dir, 'prepare_params.json')
    wanted = {k: params[k] for k in OUTPUT_PARAMS if k in params}
    if osp.isfile(path):
        import json
        with open(path, encoding='utf-8') as f:
            recorded = json.load(f)
        changed = {k: (recorded.get(k), v) for k, v in wanted.items()
                   if recorded.get(k) != v}
        if changed:
            detail = ', '.join(f'{k}: {old!r} -> {new!r}'
                               for k, (old, new) in changed.items())
            raise ValueError(f'{out_dir} was prepared with other settings '
                             f'({detail}; see {path}); use another --out or '
                             'delete that folder')
    else:
        os.makedirs(out_dir, exist_ok=True)
        write_json_atomic(path, wanted)


def index_videos(folder: str) -> Dict[str, str]:
    """File stem -> path of every video under ``folder`` (recursively).

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no video.
        ValueError: Two videos share a stem (ambiguous sample ids).
    """
    from .media import VIDEO_EXTENSIONS, list_media
    if not osp.isdir(folder):
        raise FileNotFoundError(f'video folder {folder} not found')
    index: Dict[str, str] = {}
    for rel in list_media(folder, VIDEO_EXTENSIONS):
        stem = osp.splitext(osp.basename(rel))[0]
        path = osp.join(folder, rel)
        if stem in index:
            raise ValueError(f'two videos named {stem}: {index[stem]} and '
                             f'{path}')
        index[stem] = path
    if not index:
        raise FileNotFoundError(f'no video under {folder}')
    return index


def report_missing(out_dir: str, missing: Sequence[str],
                   what: str = 'listed clip(s)') -> int:
    """Write ids listed by the dataset but absent from the download to
    ``<out>/missing_videos.txt`` (YouTube-sourced sets always lose some) and
    say how many; returns the count."""
    missing = sorted(set(missing))
    os.makedirs(out_dir, exist_ok=True)
    from armlab.fileio.atomic_local import write_atomic
    write_atomic(''.join(f'{m}\n' for m in missing).encode('utf-8'),
                 osp.join(out_dir, 'missing_videos.txt'))
    if missing:
        print(f'{len(missing)} {what} have no video under --raw and are left '
              f"out (listed in {osp.join(out_dir, 'missing_videos.txt')})")
    return len(missing)


def _paths(split: str, sid: str) -> Dict[str, str]:
    return {'audio': f'audio/{split}/{sid}.wav',
            'audio_spec': f'spec/{split}/{sid}.npy',
            'visual': f'frames/{split}/{sid}'}


def extract_samples(out_dir: str, samples: Sequence[Mapping[str, Any]],
                    args: argparse.Namespace
                    ) -> Tuple[List[Dict[str, Any]], List[RunReport]]:
    """Frames, WAV and spectrogram of every sample, resumably.

    Args:
        out_dir: Dataset root.
        samples: Dicts with ``sample_id``, ``label``, ``split``, ``video``,
            optional ``audio_source`` (a media file; default the video) and
            any audit fields (kept in the annotations).
        args: Parsed common arguments.

    Returns:
        The annotation entries of the samples whose three outputs exist (in
        input order), and the reports of the three stages.
    """
    get_front_end(args.front_end)
    reports: List[RunReport] = []

    def out(sample, key: str) -> str:
        return osp.join(out_dir, _paths(sample['split'],
                                        sample['sample_id'])[key])

    def run(stage: str, func, jobs: List[Job]) -> None:
        reports.append(run_jobs(func, jobs, stage=stage, workers=args.workers,
                                progress=not args.no_progress))

    # Each stage runs on the samples the previous one completed, so a
    # broken video leaves no orphan WAV or spectrogram behind.
    run('frames', extract_frames, [
        Job(s['sample_id'], (out(s, 'visual'), ),
            (s['video'], out(s, 'visual'), args.fps, args.short_side,
             args.backend), s['video']) for s in samples])
    framed = [s for s in samples if osp.exists(out(s, 'visual'))]
    sources = {s['sample_id']: s.get('audio_source') or s['video']
               for s in framed}
    run('audio', extract_audio, [
        Job(s['sample_id'], (out(s, 'audio'), ),
            (sources[s['sample_id']], out(s, 'audio'), args.sample_rate,
             args.backend), sources[s['sample_id']]) for s in framed])
    heard = [s for s in framed if osp.exists(out(s, 'audio'))]
    if args.workers > 0 and not all(osp.exists(out(s, 'audio_spec'))
                                    for s in heard):
        warm_up_librosa()
    run('spectrograms', write_front_end, [
        Job(s['sample_id'], (out(s, 'audio_spec'), ),
            (out(s, 'audio'), out(s, 'audio_spec'), args.front_end),
            out(s, 'audio')) for s in heard])
    entries = []
    for s in samples:
        paths = _paths(s['split'], s['sample_id'])
        if not all(osp.exists(osp.join(out_dir, p)) for p in paths.values()):
            continue
        audit = {k: v for k, v in s.items()
                 if k not in ('sample_id', 'label', 'split', 'video',
                              'audio_source')}
        entries.append({'sample_id': s['sample_id'], 'gt_label': s['label'],
                        'paths': paths, 'split': s['split'],
                        'source': osp.basename(s['video']), **audit})
    return entries, reports


def write_dataset(out_dir: str, dataset: str, classes: Sequence[str],
                  entries: Sequence[Mapping[str, Any]],
                  reports: Sequence[RunReport], tool: str,
                  params: Mapping[str, Any],
                  extra_meta: Optional[Mapping[str, Any]] = None
                  ) -> Dict[str, int]:
    """Write ``annotations/{train,val,test}.json``, ``meta.json`` and
    ``failures.json``; return the sample count per split."""
    failures = write_failures(osp.join(out_dir, 'failures.json'), reports)
    meta = {'tool': tool, 'version': PREPARATION_VERSION,
            'params': dict(params),
            'front_end': get_front_end(params['front_end']).description,
            'failed_samples': sorted({f['key'] for f in failures}),
            **dict(extra_meta or {})}
    counts = {}
    for split in SPLITS:
        split_entries = [e for e in entries if e['split'] == split]
        if not split_entries:
            raise ValueError(f'{dataset}: no {split} sample survived '
                             'preparation; see '
                             f"{osp.join(out_dir, 'failures.json')}")
        write_annotations(out_dir, split, split_entries, classes,
                          ('audio', 'visual'), dataset, meta)
        counts[split] = len(split_entries)
    print(f'{dataset} written to {out_dir}: ' + ', '.join(
        f'{n} {split}' for split, n in counts.items()) +
        f' ({len(failures)} failure(s))')
    return counts


def run_preparation(args: argparse.Namespace, dataset: str,
                    classes: Sequence[str],
                    samples: Sequence[Mapping[str, Any]], tool: str,
                    extra_params: Optional[Mapping[str, Any]] = None,
                    extra_meta: Optional[Mapping[str, Any]] = None
                    ) -> Dict[str, int]:
    """Check settings, extract every sample, write the dataset files."""
    params = {'fps': args.fps, 'sample_rate': args.sample_rate,
              'front_end': args.front_end, 'short_side': args.short_side,
              'seed': args.seed, **dict(extra_params or {})}
    check_params(args.out, params)
    entries, reports = extract_samples(args.out, samples, args)
    return write_dataset(args.out, dataset, classes, entries, reports, tool,
                         params, extra_meta)

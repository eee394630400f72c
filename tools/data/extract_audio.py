"""Extract mono 16-bit PCM WAVs from videos or audio files, resumably.

Every media file under INPUT (searched recursively; or INPUT itself) becomes
OUT/<relative path without extension>.wav at --sample-rate, mono. Existing
WAVs are skipped (written under a temporary name, then renamed); files that
fail or carry no audio are listed in OUT/failures.json and the rest is
written.

Example:
    python tools/data/extract_audio.py raw/videos --out data/audio \
        --sample-rate 16000 --workers 8
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='media file or folder')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--sample-rate', type=int, default=16000)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='worker processes (0: in this process)')
    parser.add_argument('--backend', default='auto',
                        choices=('auto', 'pyav', 'ffmpeg'))
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.media import (AUDIO_EXTENSIONS,
                                                   VIDEO_EXTENSIONS,
                                                   extract_audio,
                                                   get_backend, list_media)
    from armlab.datasets.preparation.parallel import (Job, run_jobs,
                                                      write_failures)
    get_backend(args.backend)
    extensions = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS
    files = list_media(args.input, extensions)
    if not files:
        print(f'no media file under {args.input}', file=sys.stderr)
        return 1
    jobs = []
    for rel in files:
        src = osp.join(args.input, rel) if rel else args.input
        name = osp.splitext(rel or osp.basename(args.input))[0]
        wav = osp.join(args.out, name + '.wav')
        jobs.append(Job(name, (wav, ), (src, wav, args.sample_rate,
                                        args.backend), src))
    report = run_jobs(extract_audio, jobs, stage='audio',
                      workers=args.workers, progress=not args.no_progress)
    write_failures(osp.join(args.out, 'failures.json'), [report])
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Extract JPEG frames from videos at a fixed rate, resumably, in parallel.

Every video under INPUT (searched recursively; or INPUT itself) becomes a
folder OUT/<relative path without extension>/ holding frame_0000.jpg,
frame_0001.jpg, ... (zero-padded, numeric order = time order). Videos whose
folder exists are skipped (folders are renamed into place when complete);
videos that fail are listed in OUT/failures.json and the rest is written.

Example:
    python tools/data/extract_frames.py raw/videos --out data/frames \
        --fps 1 --short-side 256 --workers 8
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='video file or folder of videos')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--fps', type=float, default=1.0,
                        help='frames per second (default 1)')
    parser.add_argument('--short-side', type=int, default=None,
                        help='resize to this shorter side (default: keep)')
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='worker processes (0: in this process)')
    parser.add_argument('--backend', default='auto',
                        choices=('auto', 'pyav', 'ffmpeg'))
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.media import (VIDEO_EXTENSIONS,
                                                   extract_frames,
                                                   get_backend, list_media)
    from armlab.datasets.preparation.parallel import (Job, run_jobs,
                                                      write_failures)
    get_backend(args.backend)  # fail early, naming both decoders
    videos = list_media(args.input, VIDEO_EXTENSIONS)
    if not videos:
        print(f'no video ({", ".join(VIDEO_EXTENSIONS)}) under {args.input}',
              file=sys.stderr)
        return 1
    jobs = []
    for rel in videos:
        src = osp.join(args.input, rel) if rel else args.input
        name = osp.splitext(rel or osp.basename(args.input))[0]
        folder = osp.join(args.out, name)
        jobs.append(Job(name, (folder, ), (src, folder, args.fps,
                                           args.short_side, args.backend,
                                           args.jpeg_quality), src))
    report = run_jobs(extract_frames, jobs, stage='frames',
                      workers=args.workers, progress=not args.no_progress)
    write_failures(osp.join(args.out, 'failures.json'), [report])
    return 0


if __name__ == '__main__':
    sys.exit(main())

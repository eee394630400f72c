"""Prepare VGGSound (YouTube clips, 309 or so of 310 classes once downloaded).

Raw layout (www.robots.ox.ac.uk/~vgg/data/vggsound/; the clips themselves
are downloaded from YouTube by the user, so every copy is a subset):

    vggsound/
      vggsound.csv               youtube_id,start_seconds,label,train|test
      video/<youtube_id>_<start:06d>.mp4   (also accepted: _<start>,
                                 _<start:06d>_<end:06d>, or <youtube_id>)

The official train / test assignment of vggsound.csv is kept; validation is
carved from train (class-stratified, --val-fraction). Only the classes with
at least one downloaded clip are kept (OGM-GE's copy has 309), sorted by
name; the list is in meta.json. Sample ids are <youtube_id>_<start:06d>.

Example:
    python tools/data/prepare_vggsound.py --raw vggsound --out data/vggsound \
        --workers 16
"""
import argparse
import csv
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.av_pipeline import add_common_args
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    add_common_args(parser, front_end='vggsound_stft')
    parser.add_argument('--csv', default='vggsound.csv',
                        help='annotation CSV, relative to --raw')
    parser.add_argument('--video-dir', default='video',
                        help='folder of the clips, relative to --raw')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='validation share carved from train')
    return parser.parse_args(argv)


def read_csv(path: str) -> list:
    """(youtube_id, start, label, split) rows of vggsound.csv."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'VGGSound annotation file {path} not found')
    rows = []
    with open(path, newline='', encoding='utf-8') as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) != 4 or not row[1].strip().isdigit():
                if line_no == 1:
                    continue  # header
                raise ValueError(f'{path}:{line_no}: expected youtube_id,'
                                 f'start,label,split, got {row}')
            ytid, start, label, split = (c.strip() for c in row)
            if split not in ('train', 'test'):
                raise ValueError(f'{path}:{line_no}: split {split!r} is not '
                                 "'train' or 'test'")
            rows.append((ytid, int(start), label, split))
    return rows


def find_video(videos: dict, ytid: str, start: int):
    for key in (f'{ytid}_{start:06d}', f'{ytid}_{start}',
                f'{ytid}_{start:06d}_{start + 10:06d}', ytid):
        if key in videos:
            return videos[key]
    return None


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.av_pipeline import (index_videos,
                                                         report_missing,
                                                         run_preparation)
    from armlab.datasets.preparation.splits import carve_validation
    rows = read_csv(osp.join(args.raw, args.csv))
    videos = index_videos(osp.join(args.raw, args.video_dir))
    samples, missing, seen = [], [], set()
    for ytid, start, label, split in rows:
        sid = f'{ytid}_{start:06d}'
        if sid in seen:
            raise ValueError(f'{args.csv}: clip {sid} is listed twice')
        seen.add(sid)
        video = find_video(videos, ytid, start)
        if video is None:
            missing.append(sid)
            continue
        samples.append(dict(sample_id=sid, label=label, split=split,
                            video=video, youtube_id=ytid, start_s=start))
    report_missing(args.out, missing)
    samples.sort(key=lambda s: s['sample_id'])
    classes = sorted({s['label'] for s in samples})
    absent = sorted({r[2] for r in rows} - set(classes))
    labels = [s['label'] for s in samples]
    train = [i for i, s in enumerate(samples) if s['split'] == 'train']
    _, val = carve_validation(labels, train, fraction=args.val_fraction,
                              seed=args.seed)
    for i in val:
        samples[i]['split'] = 'val'
    print(f'{len(classes)} classes with downloaded clips'
          + (f' ({len(absent)} without: {absent[:5]})' if absent else ''))
    run_preparation(
        args, 'VGGSound', classes, samples, 'tools/data/prepare_vggsound.py',
        extra_params=dict(val_fraction=args.val_fraction),
        extra_meta=dict(split_rule='vggsound.csv train/test; validation '
                        'carved from train', classes_without_clips=absent))
    return 0


if __name__ == '__main__':
    sys.exit(main())

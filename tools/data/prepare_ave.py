"""Prepare AVE (Audio-Visual Event localisation; 28 event classes).

Raw layout (AVE_Dataset.zip from the AVE authors, github.com/YapengTian/AVE-ECCV18):

    AVE_Dataset/
      AVE/<VideoID>.mp4          4,143 ten-second YouTube clips
      Annotations.txt            Category&VideoID&Quality&StartTime&EndTime
      trainSet.txt valSet.txt testSet.txt   the same line format

The official train / val / test lists are kept (3,339 / 402 / 402). Classes
are ordered as they first appear in Annotations.txt (as OGM-GE builds its
class index). Multi-label policy: a video listed under several categories is
dropped (OGM-GE's choice), and the dropped ids are recorded in meta.json.
The event's start and end seconds are kept as audit fields; frames and audio
cover the whole clip, as in the field's classification setting.

Example:
    python tools/data/prepare_ave.py --raw AVE_Dataset --out data/ave \
        --workers 8
"""
import argparse
import os.path as osp
import sys

SPLIT_FILES = {'train': 'trainSet.txt', 'val': 'valSet.txt',
               'test': 'testSet.txt'}


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.av_pipeline import add_common_args
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    add_common_args(parser, front_end='ave_scipy')
    parser.add_argument('--video-dir', default='AVE',
                        help='folder of the clips, relative to --raw')
    return parser.parse_args(argv)


def read_lines(path: str) -> list:
    """Rows (category, video_id, quality, start, end) of an AVE list."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'AVE list {path} not found')
    rows = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('Category&'):
                continue
            parts = line.split('&')
            if len(parts) != 5:
                raise ValueError(f'{path}:{line_no}: expected Category&'
                                 f'VideoID&Quality&StartTime&EndTime, got '
                                 f'{line!r}')
            rows.append((parts[0], parts[1], parts[2], int(parts[3]),
                         int(parts[4])))
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.av_pipeline import (index_videos,
                                                         report_missing,
                                                         run_preparation)
    annotations = read_lines(osp.join(args.raw, 'Annotations.txt'))
    classes, labels_of = [], {}
    for category, vid, *_ in annotations:
        if category not in classes:
            classes.append(category)
        labels_of.setdefault(vid, set()).add(category)
    multi = sorted(v for v, labels in labels_of.items() if len(labels) > 1)
    videos = index_videos(osp.join(args.raw, args.video_dir))
    samples, missing, seen = [], [], {}
    for split, name in SPLIT_FILES.items():
        for category, vid, quality, start, end in read_lines(
                osp.join(args.raw, name)):
            if vid in multi:
                continue
            if vid in seen:
                if seen[vid] != split:
                    raise ValueError(f'AVE video {vid} is in both the '
                                     f'{seen[vid]} and {split} lists')
                continue
            seen[vid] = split
            if category not in classes:
                raise ValueError(f'{name}: category {category!r} of {vid} '
                                 'is not in Annotations.txt')
            if vid not in videos:
                missing.append(vid)
                continue
            samples.append(dict(sample_id=vid, label=category, split=split,
                                video=videos[vid], quality=quality,
                                event_start=start, event_end=end))
    report_missing(args.out, missing)
    if multi:
        print(f'{len(multi)} multi-label video(s) dropped (listed in '
              'meta.json)')
    run_preparation(
        args, 'AVE', classes, sorted(samples, key=lambda s: s['sample_id']),
        'tools/data/prepare_ave.py',
        extra_meta=dict(split_rule='official trainSet/valSet/testSet',
                        multilabel_policy='videos with several categories '
                        'dropped (OGM-GE)',
                        dropped_multilabel=multi))
    return 0


if __name__ == '__main__':
    sys.exit(main())

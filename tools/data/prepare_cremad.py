"""Prepare CREMA-D (6 emotions, audio + face video) for armlab.

Raw layout (github.com/CheyneyComputerScience/CREMA-D, fetched with git-lfs;
only these two folders are read):

    CREMA-D/
      AudioWAV/1001_DFA_ANG_XX.wav      16 kHz speech, one per clip
      VideoFlash/1001_DFA_ANG_XX.flv    the same clip's video

Names are ActorID_Sentence_Emotion_Level; the emotion (NEU HAP SAD FEA DIS
ANG, OGM-GE's label order) is the class, the actor the speaker group. The
audio comes from AudioWAV/ (what the field uses), or from the video's own
track when the WAV is missing.

Splits:
- ``--train-list/--test-list``: OGM-GE's train.csv / test.csv (rows
  ``clip,label``; 6,698 / 744 clips); validation is carved out of train,
  class-stratified, ``--val-size`` clips (default: as many as test, giving
  5,954 / 744 / 744). These lists share actors between train and test.
- otherwise a seeded class-stratified 80/10/10 split of all clips.
- ``--speaker-disjoint``: no actor in two splits (in list mode: validation
  and train share no actor).

Writes the layout of docs/design.md under --out (annotations/, audio/,
spec/, frames/, meta.json, failures.json).

Example:
    python tools/data/prepare_cremad.py --raw CREMA-D --out data/cremad \
        --train-list train.csv --test-list test.csv --workers 8
"""
import argparse
import csv
import os.path as osp
import re
import sys

CLASSES = ('NEU', 'HAP', 'SAD', 'FEA', 'DIS', 'ANG')
NAME = re.compile(r'^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$')


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.av_pipeline import add_common_args
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    add_common_args(parser, front_end='cremad_stft')
    parser.add_argument('--train-list', help="OGM-GE train.csv (clip,label)")
    parser.add_argument('--test-list', help="OGM-GE test.csv (clip,label)")
    parser.add_argument('--val-size', type=int, default=None,
                        help='validation clips carved from train (default: '
                        'the test size with lists, 10%% without)')
    parser.add_argument('--speaker-disjoint', action='store_true',
                        help='keep every actor in one split')
    parser.add_argument('--video-dir', default='VideoFlash')
    parser.add_argument('--audio-dir', default='AudioWAV')
    return parser.parse_args(argv)


def list_clips(raw: str, video_dir: str, audio_dir: str) -> dict:
    """Clip name -> video / audio source / actor / emotion, from the raw
    folders; names that are not CREMA-D clip names are rejected."""
    from armlab.datasets.preparation.media import VIDEO_EXTENSIONS, list_media
    folder = osp.join(raw, video_dir)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'CREMA-D videos not found: {folder} (pass '
                                '--raw CREMA-D or --video-dir)')
    clips = {}
    for rel in list_media(folder, VIDEO_EXTENSIONS):
        name = osp.splitext(osp.basename(rel))[0]
        match = NAME.match(name)
        if not match or match.group(3) not in CLASSES:
            raise ValueError(f'{osp.join(folder, rel)} is not a CREMA-D clip '
                             'name (ActorID_Sentence_Emotion_Level, emotion '
                             f'in {CLASSES})')
        wav = osp.join(raw, audio_dir, name + '.wav')
        clips[name] = dict(video=osp.join(folder, rel),
                           audio_source=wav if osp.isfile(wav) else None,
                           actor=match.group(1), sentence=match.group(2),
                           label=match.group(3), level=match.group(4))
    if not clips:
        raise FileNotFoundError(f'no video in {folder}')
    return clips


def read_list(path: str) -> list:
    """Clip names of an OGM-GE list (``clip,label`` rows, header optional);
    a listed label must agree with the name."""
    names = []
    with open(path, newline='', encoding='utf-8') as f:
        for row in csv.reader(f):
            if not row or not row[0].strip():
                continue
            name = osp.splitext(osp.basename(row[0].strip()))[0]
            match = NAME.match(name)
            if not match:
                if not names:  # a header
                    continue
                raise ValueError(f'{path}: {row[0]!r} is not a CREMA-D clip')
            if len(row) > 1 and row[1].strip() and \
                    row[1].strip() != match.group(3):
                raise ValueError(f'{path}: {name} is listed as {row[1]!r} '
                                 f'but its name says {match.group(3)}')
            names.append(name)
    return names


def assign_splits(clips: dict, args: argparse.Namespace) -> dict:
    """Clip name -> split."""
    from armlab.datasets.preparation.av_pipeline import report_missing
    from armlab.datasets.preparation.splits import (carve_validation,
                                                    check_disjoint,
                                                    stratified_split)
    names = sorted(clips)
    labels = [clips[n]['label'] for n in names]
    actors = [clips[n]['actor'] for n in names]
    groups = actors if args.speaker_disjoint else None
    if bool(args.train_list) != bool(args.test_list):
        raise ValueError('pass both --train-list and --test-list, or neither')
    if not args.train_list:
        if args.val_size is not None:
            raise ValueError('--val-size needs --train-list/--test-list '
                             '(without lists the split is 80/10/10)')
        parts = stratified_split(labels, {'train': 0.8, 'val': 0.1,
                                          'test': 0.1}, args.seed, groups)
        return {names[i]: split for split, idx in parts.items()
                for i in idx}
    index = {n: i for i, n in enumerate(names)}
    lists = {'train': read_list(args.train_list),
             'test': read_list(args.test_list)}
    check_disjoint(lists)
    report_missing(args.out, [n for part in lists.values() for n in part
                              if n not in index])
    train = [index[n] for n in lists['train'] if n in index]
    test = [index[n] for n in lists['test'] if n in index]
    size = args.val_size if args.val_size is not None else len(test)
    train, val = carve_validation(labels, train, size=size, seed=args.seed,
                                  groups=groups)
    return {names[i]: split for split, idx in
            (('train', train), ('val', val), ('test', test)) for i in idx}


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.av_pipeline import run_preparation
    clips = list_clips(args.raw, args.video_dir, args.audio_dir)
    splits = assign_splits(clips, args)
    samples = [dict(sample_id=name, split=splits[name], **clips[name])
               for name in sorted(splits)]
    run_preparation(
        args, 'CREMA-D', CLASSES, samples, 'tools/data/prepare_cremad.py',
        extra_params=dict(
            train_list=args.train_list and osp.basename(args.train_list),
            test_list=args.test_list and osp.basename(args.test_list),
            val_size=args.val_size, speaker_disjoint=args.speaker_disjoint),
        extra_meta=dict(split_rule=(
            'official lists, validation carved from train'
            if args.train_list else 'seeded stratified 80/10/10'),
            speaker_disjoint=args.speaker_disjoint))
    return 0


if __name__ == '__main__':
    sys.exit(main())

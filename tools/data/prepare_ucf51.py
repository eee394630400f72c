"""Prepare UCF-51: the UCF-101 classes whose videos carry sound.

Raw layout (UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from
www.crcv.ucf.edu/data/UCF101.php, unpacked side by side):

    UCF101/
      UCF-101/<Class>/v_<Class>_g<group>_c<clip>.avi
      ucfTrainTestlist/classInd.txt              "1 ApplyEyeMakeup"
      ucfTrainTestlist/trainlist0{1,2,3}.txt     "<Class>/v_..._c01.avi 1"
      ucfTrainTestlist/testlist0{1,2,3}.txt      "<Class>/v_..._c01.avi"

Only about half of UCF-101 has an audio track. Every listed video's audio is
decoded (a stream with non-silent samples counts as audio, and its WAV is
kept); a class is kept when at least --min-audio-fraction of its videos have
audio (the expected result is 51 classes), and its videos without audio are
dropped. meta.json records the classes with and without audio and the
per-class fraction. The official split (--split-id) gives train and test;
validation is carved from train by whole groups (g01..g25: clips of one
group come from one long video, so sharing a group would leak).

Example:
    python tools/data/prepare_ucf51.py --raw UCF101 --out data/ucf51 \
        --split-id 1 --workers 8
"""
import argparse
import os.path as osp
import re
import sys

NAME = re.compile(r'^v_(\w+?)_g(\d+)_c(\d+)$')


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.av_pipeline import add_common_args
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    add_common_args(parser, front_end='vggsound_stft')
    parser.add_argument('--split-id', type=int, default=1, choices=(1, 2, 3))
    parser.add_argument('--video-dir', default='UCF-101')
    parser.add_argument('--list-dir', default='ucfTrainTestlist')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='validation share carved from train (by group)')
    parser.add_argument('--min-audio-fraction', type=float, default=0.5,
                        help='share of a class\'s videos that must have '
                        'audio for the class to be kept')
    return parser.parse_args(argv)


def read_class_index(path: str) -> list:
    if not osp.isfile(path):
        raise FileNotFoundError(f'UCF-101 class index {path} not found')
    with open(path, encoding='utf-8') as f:
        rows = [line.split() for line in f if line.strip()]
    return [name for _, name in sorted((int(i), n) for i, n in rows)]


def read_split(path: str, classes: list) -> list:
    """(relative video path, class name) of a train/test list."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'UCF-101 split list {path} not found')
    out = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            rel = line.split()[0]
            name = rel.split('/')[0]
            if name not in classes:
                raise ValueError(f'{path}:{line_no}: class {name!r} is not '
                                 'in classInd.txt')
            out.append((rel, name))
    return out


def has_audio_job(media: str, wav: str, sample_rate: int,
                  backend: str) -> bool:
    """Decode the audio; keep it as a WAV when there is any. Returns
    whether the video has audio."""
    from armlab.datasets.preparation.media import probe_audio, write_wav
    wave = probe_audio(media, sample_rate, backend)
    if wave is None:
        return False
    write_wav(wave, wav, sample_rate)
    return True


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.av_pipeline import (check_params,
                                                         extract_samples,
                                                         report_missing,
                                                         write_dataset)
    from armlab.datasets.preparation.parallel import Job, run_jobs
    from armlab.datasets.preparation.splits import carve_validation
    lists = osp.join(args.raw, args.list_dir)
    all_classes = read_class_index(osp.join(lists, 'classInd.txt'))
    samples, missing = [], []
    for split, name in (('train', 'trainlist'), ('test', 'testlist')):
        for rel, label in read_split(
                osp.join(lists, f'{name}0{args.split_id}.txt'), all_classes):
            video = osp.join(args.raw, args.video_dir, rel)
            stem = osp.splitext(osp.basename(rel))[0]
            match = NAME.match(stem)
            if not match:
                raise ValueError(f'{rel}: not a UCF-101 video name '
                                 '(v_<Class>_g<group>_c<clip>)')
            if not osp.isfile(video):
                missing.append(rel)
                continue
            samples.append(dict(sample_id=stem, label=label, split=split,
                                video=video, group=int(match.group(2)),
                                clip=int(match.group(3))))
    report_missing(args.out, missing)

    params = {'fps': args.fps, 'sample_rate': args.sample_rate,
              'front_end': args.front_end, 'short_side': args.short_side,
              'seed': args.seed, 'split_id': args.split_id,
              'val_fraction': args.val_fraction,
              'min_audio_fraction': args.min_audio_fraction}
    check_params(args.out, params)
    # Audio presence, by decoding; the WAVs found are the final ones (the
    # split of a train video is settled below, so probe into a flat cache).
    probe = run_jobs(has_audio_job, [
        Job(s['sample_id'],
            (osp.join(args.out, 'audio_probe', s['sample_id'] + '.wav'), ),
            (s['video'], osp.join(args.out, 'audio_probe',
                                  s['sample_id'] + '.wav'),
             args.sample_rate, args.backend), s['video'])
        for s in samples], stage='audio probe', workers=args.workers,
        progress=not args.no_progress)
    failed = probe.failed_keys
    audible = {s['sample_id'] for s in samples
               if probe.results.get(s['sample_id'])
               or s['sample_id'] in probe.skipped}
    fraction = {}
    for label in all_classes:
        decoded = [s for s in samples if s['label'] == label
                   and s['sample_id'] not in failed]
        if decoded:
            fraction[label] = sum(s['sample_id'] in audible
                                  for s in decoded) / len(decoded)
    classes = [c for c in all_classes
               if fraction.get(c, 0.0) >= args.min_audio_fraction]
    silent_classes = [c for c in all_classes if c in fraction
                      and c not in classes]
    print(f'{len(classes)} classes with audio, {len(silent_classes)} without'
          + ('' if len(classes) == 51 else ' (51 expected for the full '
             'UCF-101)'))
    if not classes:
        raise ValueError('no UCF-101 class has audio; check the decoder')
    kept = [s for s in samples
            if s['label'] in classes and s['sample_id'] in audible]
    dropped_silent = sorted(s['sample_id'] for s in samples
                            if s['label'] in classes
                            and s['sample_id'] not in audible
                            and s['sample_id'] not in failed)
    kept.sort(key=lambda s: s['sample_id'])
    labels = [s['label'] for s in kept]
    groups = [(s['label'], s['group']) for s in kept]
    train = [i for i, s in enumerate(kept) if s['split'] == 'train']
    _, val = carve_validation(labels, train, fraction=args.val_fraction,
                              seed=args.seed, groups=groups)
    for i in val:
        kept[i]['split'] = 'val'
    for s in kept:  # the probe's WAV becomes the sample's audio file
        s['audio_source'] = osp.join(args.out, 'audio_probe',
                                     s['sample_id'] + '.wav')
    entries, reports = extract_samples(args.out, kept, args)
    write_dataset(
        args.out, 'UCF-51', classes, entries, [probe] + reports,
        'tools/data/prepare_ucf51.py', params,
        extra_meta=dict(
            split_rule=f'official split {args.split_id}; validation carved '
            'from train by group',
            classes_with_audio=classes,
            classes_without_audio=silent_classes,
            audio_fraction={c: round(f, 4) for c, f in fraction.items()},
            dropped_without_audio=dropped_silent))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Cache float32 (F, T) spectrograms of WAV files with a benchmark's front-end.

Every audio file under INPUT becomes OUT/<relative path without
extension>.npy, computed as the named front-end's reference does
(armlab.datasets.preparation.frontends):

    cremad_stft    librosa 22,050 Hz, tile x3, 3 s, STFT 512/353  -> 257 x 188
    ks_fbank       Kaldi fbank 128 bins, 1,024 frames, AudioSet norm -> 128 x 1024
    ave_scipy      22,050 Hz, tile x10, scipy PSD 512/353, z-score -> 257 x 1004
    vggsound_stft  16 kHz, centred 5-s crop, STFT 256/128       -> 129 x 626
    logmel         16 kHz, 64-band log-mel, z-scored (AV-Digits) -> 64 x T

Existing outputs are skipped; failures go to OUT/failures.json.

Example:
    python tools/data/compute_spectrograms.py data/audio --out data/spec \
        --front-end cremad_stft --workers 8
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    from armlab.datasets.preparation.frontends import FRONT_ENDS
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[4:11]))
    parser.add_argument('input', help='audio file or folder of audio files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--front-end', required=True,
                        choices=sorted(FRONT_ENDS))
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='worker processes (0: in this process)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from armlab.datasets.preparation.frontends import (warm_up_librosa,
                                                       write_front_end)
    from armlab.datasets.preparation.media import (AUDIO_EXTENSIONS,
                                                   list_media)
    from armlab.datasets.preparation.parallel import (Job, run_jobs,
                                                      write_failures)
    files = list_media(args.input, AUDIO_EXTENSIONS)
    if not files:
        print(f'no audio file under {args.input}', file=sys.stderr)
        return 1
    jobs = []
    for rel in files:
        src = osp.join(args.input, rel) if rel else args.input
        name = osp.splitext(rel or osp.basename(args.input))[0]
        npy = osp.join(args.out, name + '.npy')
        jobs.append(Job(name, (npy, ), (src, npy, args.front_end), src))
    warm_up_librosa()  # once here rather than in every worker
    report = run_jobs(write_front_end, jobs, stage='spectrograms',
                      workers=args.workers, progress=not args.no_progress)
    write_failures(osp.join(args.out, 'failures.json'), [report])
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Build the AV-Digits benchmark offline (no download).

Examples:
    python tools/data/build_avdigits.py --out data/avdigits
    python tools/data/build_avdigits.py --out data/avdigits_mnist_fsdd \
        --mnist PATH/mnist10k.npz --fsdd PATH/fsdd
"""
import argparse
import os
import subprocess
import time


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/avdigits',
                        help='output folder (the dataset data_root)')
    parser.add_argument('--mnist', metavar='PATH',
                        help='MNIST .npz (images, labels); default: '
                        "scikit-learn's 8x8 digits")
    parser.add_argument('--fsdd', metavar='PATH',
                        help='FSDD folder for human speech; default: '
                        'espeak-ng synthetic speech')
    parser.add_argument('--fsdd-split', choices=('speaker', 'take'),
                        default='speaker')
    parser.add_argument('--num-train', type=int, default=7000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument('--num-test', type=int, default=2000)
    parser.add_argument('--frames', type=int, default=3, help='frames T')
    parser.add_argument('--canvas', type=int, default=32)
    parser.add_argument('--window', type=float, default=1.0,
                        help='audio window in seconds')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args()


def disk_usage(folder: str) -> str:
    """Size on disk of the output, as ``du -sh`` reports it."""
    try:
        out = subprocess.run(['du', '-sh', folder], capture_output=True,
                             text=True, check=True).stdout
        return out.split()[0]
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def main() -> None:
    args = parse_args()
    from armlab.datasets.avdigits import build_avdigits
    start = time.perf_counter()
    meta = build_avdigits(
        args.out,
        num_train=args.num_train, num_val=args.num_val,
        num_test=args.num_test, num_frames=args.frames, canvas=args.canvas,
        window_s=args.window,
        visual_source='mnist' if args.mnist else 'sklearn',
        mnist_path=args.mnist,
        audio_source='fsdd' if args.fsdd else 'espeak',
        fsdd_path=args.fsdd, fsdd_split=args.fsdd_split, seed=args.seed,
        progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    print(f"{meta['name']}, {meta['audio']} -> {os.path.abspath(args.out)}")
    print(f"pairs: {meta['counts']}; audio clips cropped: "
          f"{meta['audio_clips_cropped']}; voices/speakers disjoint: "
          f"{meta['voices_disjoint']}")
    print(f"backend: {meta['build']['backend']}; build key "
          f"{meta['build']['build_key'][:16]}")
    print(f'size on disk: {disk_usage(args.out)}; built in {elapsed:.1f} s')


if __name__ == '__main__':
    main()

"""Training throughput of the full-size model on a GPU, and of the batched
audio front-end.

Part one: the full-size ResNet-18 pair (base width 64) at OGM-GE's CREMA-D
shapes (frames 3 x T x 224 x 224, spectrogram 1 x 257 x 188), batch 64, for
joint training, ARM and the gradient-modulating balancers (OGM-GE, AGM,
MMPareto), in fp32 and AMP, channels-last off and on: samples/s of
``model.train_step`` on in-memory batches (``--warmup`` steps excluded, CUDA
synchronised around the timed steps). Each method's config supplies its
model and optimiser; the state its epoch-level hook would give the balancer
is set as in ``balancer_cost.py``.

Part two: samples/s of the batched front-ends of ``BatchSpectrogram`` and
``BatchAVDigitsImbalance`` on the device: AV-Digits' log-mel (1 s at 16 kHz,
with the audio-dominant noise) and OGM-GE's CREMA-D log-STFT (3 s at
22,050 Hz).

    python benchmarks/gpu_throughput.py [--device cuda] [--batch 64] \
        [--width 64] [--frames 1] [--steps 10] [--warmup 3] \
        [--methods joint arm ogm-ge agm mmpareto]

``--quick`` runs on the CPU at tiny sizes (a smoke run, not a measurement;
AMP needs CUDA and is then reported as skipped).
"""
import argparse
import time

import torch

from common import (JOINT_CONFIG, RESULTS, build_trainable, error_text,
                    make_batches, method_configs, set_epoch, synchronize,
                    write_result, environment, relative)

from armlab.datasets.transforms.batch_audio import BatchSpectrogram
from armlab.datasets.transforms.imbalance import BatchAVDigitsImbalance

DEFAULT_METHODS = ('joint', 'arm', 'ogm-ge', 'agm', 'mmpareto')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--width', type=int, default=64)
    parser.add_argument('--frames', type=int, default=1,
                        help='T, frames per clip (OGM-GE CREMA-D: 1)')
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--epoch', type=int, default=2,
                        help='epoch the balancers see (inside every '
                        "method's window)")
    parser.add_argument('--methods', nargs='+', default=list(DEFAULT_METHODS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--out', default=str(RESULTS / 'gpu_throughput.json'))
    return parser.parse_args()


def config_of(method: str):
    if method == 'joint':
        return JOINT_CONFIG
    configs = method_configs()
    if method not in configs:
        raise KeyError(f'unknown method {method!r}; known: '
                       f'{["joint", *sorted(configs)]}')
    return configs[method]


def train_throughput(args, method: str, amp: bool, channels_last: bool,
                     shapes: dict) -> dict:
    """samples/s of one method in one precision and memory format."""
    path = config_of(method)
    batches = make_batches(args.steps + args.warmup, args.batch, args.seed,
                           shapes)
    model, optim_wrapper = build_trainable(
        path, args.width, batches, args.seed, args.device,
        channels_last=channels_last, amp=amp)
    set_epoch(model, args.epoch)
    for data in batches[:args.warmup]:
        model.train_step(data, optim_wrapper)
    synchronize(args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for data in batches[args.warmup:]:
        model.train_step(data, optim_wrapper)
    synchronize(args.device)
    seconds = time.perf_counter() - start
    row = dict(config=relative(path),
               samples_per_s=args.steps * args.batch / seconds,
               step_ms=1e3 * seconds / args.steps)
    if args.device.startswith('cuda'):
        row['peak_memory_mb'] = torch.cuda.max_memory_allocated() / 2**20
    return row


def front_end_throughput(args) -> dict:
    """samples/s of the batched front-ends on the device."""
    device = torch.device(args.device)
    batch, repeats = args.batch, 3 if args.quick else 20
    cases = dict(
        avdigits_logmel_with_noise=(16000, [
            BatchAVDigitsImbalance(keys=('audio', ), audio_snr_db=0.0),
            BatchSpectrogram(kind='logmel', sample_rate=16000, n_fft=512,
                             win_length=400, hop_length=320, n_mels=64)]),
        cremad_log_stft=(66150, [
            BatchSpectrogram(kind='stft', n_fft=512, hop_length=353)]))
    out = {}
    for name, (length, ops) in cases.items():
        waves = 0.1 * torch.randn(batch, length, device=device)
        sample_args = [dict(sample_idx=i, erased=dict(audio=False))
                       for i in range(batch)]

        def run():
            inputs = dict(audio=waves)
            for op in ops:
                inputs = op(inputs, sample_args)
            return inputs['audio']

        shape = tuple(run().shape)
        synchronize(args.device)
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        synchronize(args.device)
        seconds = (time.perf_counter() - start) / repeats
        out[name] = dict(samples_per_s=batch / seconds,
                         batch_ms=1e3 * seconds, output_shape=shape)
    return out


def main() -> None:
    args = parse_args()
    if args.quick:
        args.device, args.batch, args.width = 'cpu', 4, 4
        args.steps, args.warmup = 2, 1
        args.methods = args.methods[:2]
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('gpu_throughput.py: no CUDA device (use --quick or '
                         '--device cpu)')
    size = 32 if args.quick else 224
    shapes = dict(audio=(1, 257, 188) if not args.quick else (1, 64, 51),
                  visual=(3, args.frames, size, size))
    result = dict(environment(seed=args.seed), args=vars(args),
                  device_name=torch.cuda.get_device_name(0)
                  if args.device.startswith('cuda') else 'cpu',
                  shapes=shapes, train={})
    for amp in (False, True):
        for channels_last in (False, True):
            case = f"{'amp' if amp else 'fp32'}_" \
                   f"{'channels_last' if channels_last else 'contiguous'}"
            rows = {}
            for method in args.methods:
                if amp and not args.device.startswith('cuda'):
                    rows[method] = 'skipped: AMP needs CUDA'
                    continue
                try:
                    rows[method] = train_throughput(args, method, amp,
                                                    channels_last, shapes)
                except Exception as err:  # one failure must not end the run
                    rows[method] = error_text(err)
                print(case, method, rows[method], flush=True)
            result['train'][case] = rows
    result['front_end'] = front_end_throughput(args)
    write_result(result, args.out)


if __name__ == '__main__':
    main()

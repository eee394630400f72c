"""AV-Digits data loading: pipeline samples/s against the model's appetite.

The train split of an AV-Digits build (``--num-train`` pairs, built into
``--data-root`` by ``build_avdigits`` on first use, reused after) is read
through the train pipeline of configs/joint/joint_concat_resnet18_avdigits.py
by the dataloader the runner builds (``Runner.build_dataloader``: the
config's DefaultSampler, ``pseudo_collate``, seeded workers), batches of
``--batch``, with ``--workers`` worker processes (0, 1 and 2: the configs use
2), and each batch through the model's data preprocessor (stacking, the
steps deferred to the batch, normalisation: what the model receives), for
three data paths:

(a) batched, the configs' default: workers read waveforms and frames from
    the shared in-memory file cache and draw the erasures; the preset's noise
    and the log-mel spectrogram run on the whole batch in the data
    preprocessor (counted here, in the main process, as in training);
(b) per_sample, the earlier path (``dataset.on_batch=False``,
    ``dataset.cache=False``, ``pseudo_collate``): files decoded, noise and
    librosa log-mel computed for every sample in the workers, one tensor per
    sample sent to the main process;
(c) cached_spectrograms (collated as (b)): LoadSpectrogram of the
    ``spec/<split>/<id>.npy``
    files the builder writes. These are the clean clips' spectrograms: the
    preset's audio noise and erasure are not in them, so (c) is a speed
    reference for a clean-audio pipeline, not a drop-in for the presets.

Each pass times ``--batches`` batches: samples/s once every worker has
delivered its first batch (steady state), and over the whole pass (worker
start-up included). Against them, the model's consumption rate: samples/s
of training steps (forward, backward, SGD step; ``model.train_step`` on
in-memory batches, on the device the runner would use) of the joint model
at the same batch size. Passes and model alternate ``--repeats`` times;
medians are reported. Target: the default path (a) with the configs' 2
workers delivers at least twice what the model consumes (ratio >= 2). The
two are measured apart; in training they share the CPU cores.

Usage: ``python benchmarks/data_loading.py [--num-train 7000]
[--data-root work_dirs/benchmarks/avdigits_train7000]`` (an existing build
with the configs' parameters, e.g. ``data/avdigits/sklearn_espeak``, is
reused); results are printed and written to
``benchmarks/results/data_loading.json``.
"""
import argparse
import copy
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.runner import Runner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (AVDIGITS_SHAPES, JOINT_CONFIG,  # noqa: E402
                           REPO, RESULTS, build_trainable, environment,
                           load_config, make_batches, set_threads,
                           time_steps, write_result)

from armlab.datasets.avdigits_dataset import ensure_avdigits  # noqa: E402
from armlab.registry import DATASETS, MODELS  # noqa: E402
from armlab.utils import limit_blas_threads, register_all_modules  # noqa: E402

TARGET_RATIO = 2.0
DEFAULT_PATH = 'batched'
#: The smallest val/test splits a build accepts; only train is read here.
SMALL_SPLIT = 10


def build_config(cfg, num_train: int) -> dict:
    """The configs' build parameters with ``num_train`` train pairs; a
    smaller train set comes with the smallest val and test splits."""
    build_cfg = dict(cfg.train_dataloader.dataset.build_cfg)
    if num_train != build_cfg['num_train']:
        build_cfg.update(num_train=num_train, num_val=SMALL_SPLIT,
                         num_test=SMALL_SPLIT)
    return build_cfg


def ensure_data(args, build_cfg: dict) -> dict:
    """Build AV-Digits at --data-root unless a matching build is there."""
    existed = os.path.isfile(os.path.join(args.data_root, 'meta.json'))
    start = time.perf_counter()
    ensure_avdigits(args.data_root, dict(build_cfg, progress=not args.quick))
    return dict(data_root=args.data_root, build=build_cfg,
                reused=existed,
                build_s=None if existed else time.perf_counter() - start)


def cached_pipeline(pipeline: list) -> list:
    """The train pipeline with the spectrogram read from the cache: no
    LoadAudio, and LoadSpectrogram where AudioSpectrogram was (after
    AVDigitsImbalance, which then finds no waveform to corrupt)."""
    out = []
    for transform in pipeline:
        if transform['type'] == 'LoadAudio':
            continue
        if transform['type'] == 'AudioSpectrogram':
            transform = dict(type='LoadSpectrogram', key='audio',
                             path_key='audio_spec',
                             expected_shape=AVDIGITS_SHAPES['audio'][1:])
        out.append(transform)
    return out


#: The collate function of each data path (the configs' for 'batched').
COLLATE = dict(per_sample=dict(type='pseudo_collate'),
               cached_spectrograms=dict(type='pseudo_collate'))


def dataset_configs(cfg, data_root: str, build_cfg: dict) -> dict:
    """Data path -> train dataset config, or why it is unavailable."""
    base = copy.deepcopy(cfg.train_dataloader.dataset)
    base.update(data_root=data_root, build_cfg=build_cfg)
    per_sample = copy.deepcopy(base)
    per_sample.update(on_batch=False, cache=False)
    configs = {'batched': base, 'per_sample': per_sample}
    COLLATE['batched'] = cfg.train_dataloader.get(
        'collate_fn', dict(type='pseudo_collate'))
    first = DATASETS.build(per_sample).get_data_info(0)
    if 'audio_spec_path' not in first:
        configs['cached_spectrograms'] = (
            "unavailable: the annotations have no 'audio_spec' entry")
    elif not os.path.isfile(first['audio_spec_path']):
        configs['cached_spectrograms'] = (
            'unavailable: no spectrogram cache in '
            f"{os.path.join(data_root, 'spec', 'train')}")
    else:
        cached = copy.deepcopy(per_sample)
        cached.pipeline = cached_pipeline(cached.pipeline)
        configs['cached_spectrograms'] = cached
    return configs


def preprocessor(cfg):
    """The joint model's data preprocessor, on the runner's device."""
    return MODELS.build(cfg.model.data_preprocessor).to(get_device())


def packed_shapes(dataset_cfg, prep) -> dict:
    """Per-sample shapes of what the model receives."""
    batch = pseudo_collate([DATASETS.build(dataset_cfg)[0]])
    inputs = prep(batch, True)['inputs']
    return {m: list(v.shape[1:]) for m, v in inputs.items()}


def loader_pass(dataset_cfg, workers: int, args, prep,
                collate_fn: dict) -> dict:
    """One timed pass of --batches batches through the runner's dataloader
    and the data preprocessor (the loader's build, dataset and file cache
    included, is not timed)."""
    loader = Runner.build_dataloader(
        dict(batch_size=args.batch, num_workers=workers,
             persistent_workers=False, collate_fn=dict(collate_fn),
             sampler=dict(type='DefaultSampler', shuffle=True),
             dataset=dataset_cfg), seed=args.seed)
    wanted = min(args.batches, len(loader))
    sizes, times = [], []
    start = time.perf_counter()
    iterator = iter(loader)
    for batch in iterator:
        prep(batch, True)
        times.append(time.perf_counter())
        sizes.append(len(batch['data_samples']))
        if len(sizes) == wanted:
            break
    del iterator  # stops the workers, untimed
    # The first batch of every worker is made side by side at start-up:
    # the steady state starts once they have all arrived.
    skip = min(max(1, workers), len(sizes) - 1)
    with_startup = sum(sizes) / (times[-1] - start)
    steady = sum(sizes[skip:]) / (times[-1] - times[skip - 1]) if skip \
        else with_startup
    return dict(samples_per_s=steady, samples_per_s_with_startup=with_startup,
                first_batch_s=times[0] - start, batches=len(sizes))


def model_rate(args) -> float:
    """Training samples/s of the joint model on in-memory batches."""
    batches = make_batches(args.model_steps, args.batch, args.seed)
    device = get_device()
    model, optim = build_trainable(JOINT_CONFIG, args.width, batches,
                                   args.seed, device)
    time_steps(model, optim, batches[:1], [0], device)  # warm-up
    return args.batch / time_steps(model, optim, batches, [0], device)


def measure(args, datasets: dict, prep) -> dict:
    """Model and loader passes, alternated; ``datasets``: data path ->
    dataset config or the reason it is unavailable."""
    usable = {k: d for k, d in datasets.items() if not isinstance(d, str)}
    passes = {(k, w): [] for k in usable for w in args.workers}
    model = []
    for repeat in range(args.repeats):
        model.append(model_rate(args))
        for (front_end, workers), runs in passes.items():
            runs.append(loader_pass(usable[front_end], workers, args, prep,
                                    COLLATE[front_end]))
        print(f'repeat {repeat + 1}/{args.repeats} done', file=sys.stderr)
    model_sps = float(np.median(model))
    pipelines = {k: d for k, d in datasets.items() if isinstance(d, str)}
    for (front_end, workers), runs in passes.items():
        row = {key: float(np.median([r[key] for r in runs]))
               for key in ('samples_per_s', 'samples_per_s_with_startup',
                           'first_batch_s')}
        row['ratio_over_model'] = row['samples_per_s'] / model_sps
        row['batches'] = runs[0]['batches']
        pipelines.setdefault(front_end, {})[f'workers_{workers}'] = row
    default = pipelines[DEFAULT_PATH].get('workers_2')
    return dict(
        pipelines=pipelines,
        model=dict(samples_per_s=model_sps, device=get_device(),
                   width=args.width,
                   batch=args.batch, steps=args.model_steps),
        target=f'{DEFAULT_PATH} with 2 workers (the configs) >= '
        f'{TARGET_RATIO:g} x the model',
        meets_target=None if default is None else
        default['ratio_over_model'] >= TARGET_RATIO)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-train', type=int, default=7000,
                        help='train pairs of the build (configs: 7000; '
                        'another number builds val/test of 10 each)')
    parser.add_argument('--data-root',
                        help='where the build is (made if missing); default '
                        'work_dirs/benchmarks/avdigits_train<N>')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--batches', type=int, default=20,
                        help='batches per timed pass')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--width', type=int, default=16,
                        help="the model's encoder base channels")
    parser.add_argument('--model-steps', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int,
                        help="torch threads of the main process (default: "
                        "torch's, one per core; --quick: 1)")
    parser.add_argument('--quick', action='store_true',
                        help='a 48-pair build, tiny sizes, 1 repeat (a smoke '
                        'run for tests/tools/test_benchmarks.py, not a '
                        'measurement)')
    parser.add_argument('--out', default=str(RESULTS / 'data_loading.json'))
    args = parser.parse_args(argv)
    if args.quick:
        args.num_train, args.batch, args.batches = 48, 16, 3
        args.width, args.model_steps, args.repeats = 4, 2, 1
        args.threads = args.threads or 1
    if args.data_root is None:
        args.data_root = str(REPO / 'work_dirs' / 'benchmarks' /
                             f'avdigits_train{args.num_train}')
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    # As tools/train.py and the runner's env_cfg do for training.
    limit_blas_threads()
    cv2.setNumThreads(0)
    set_threads(args.threads)
    cfg = load_config(JOINT_CONFIG)
    build_cfg = build_config(cfg, args.num_train)
    data = ensure_data(args, build_cfg)
    datasets = dataset_configs(cfg, args.data_root, build_cfg)
    prep = preprocessor(cfg)
    shapes = {k: packed_shapes(d, prep) for k, d in datasets.items()
              if not isinstance(d, str)}
    expected = {m: list(s) for m, s in AVDIGITS_SHAPES.items()}
    result = dict(environment(args.seed), args=vars(args), data=data,
                  packed_shapes=shapes,
                  shapes_match_other_benchmarks=all(
                      s == expected for s in shapes.values()),
                  cached_note='the cache holds clean spectrograms: the '
                  "preset's audio noise/erasure are not applied to them")
    result.update(measure(args, datasets, prep))
    write_result(result, args.out)


if __name__ == '__main__':
    main()

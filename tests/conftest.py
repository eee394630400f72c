"""Shared fixtures: registration, tiny AV-Digits, running the tools, and
where the real data of ../shared lies."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Tiny models train fastest on one thread (several are ten times slower on
# two), and .ci/run gives each of the two cores its own pytest worker: one
# BLAS / torch thread per test process, and per tool it starts (inherited).
for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import torch  # noqa: E402

from armlab.utils import register_all_modules  # noqa: E402

torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('ARMLAB_SHARED_DATA',
                                  REPO.parent / 'shared' / 'data'))

#: The tiny AV-Digits build used by the pipeline and end-to-end tests.
TINY_BUILD = dict(num_train=60, num_val=20, num_test=20, num_frames=3,
                  canvas=32, window_s=1.0, visual_source='sklearn',
                  audio_source='espeak', seed=0)

register_all_modules()


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The folder with mnist10k/ and fsdd/ (skips when it is absent)."""
    if not (SHARED_DATA / 'mnist10k').is_dir():
        pytest.skip(f'real data not found at {SHARED_DATA}')
    return SHARED_DATA


@pytest.fixture(scope='session')
def tiny_root(tmp_path_factory) -> Path:
    """One tiny AV-Digits build (TINY_BUILD) shared by the whole session."""
    from armlab.datasets.avdigits.builder import build_avdigits
    root = tmp_path_factory.mktemp('avdigits_tiny')
    build_avdigits(str(root), progress=False, **TINY_BUILD)
    return root


@pytest.fixture
def hub():
    """The current message hub, for tests that set the epoch a balancer
    reads; the epoch is reset to 0 afterwards."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    yield hub
    hub.update_info('epoch', 0)


def load_tool(path):
    """The tool script at ``path`` (relative to the repository root, or
    absolute) as a module, to call its functions in this process: one import
    of torch and mmengine instead of one per subprocess."""
    import importlib.util
    path = REPO / path  # an absolute path stays itself
    spec = importlib.util.spec_from_file_location(f'armlab_tool_{path.stem}',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(*args, check: bool = True,
             env: dict = None) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` from the repository root, as a user would
    (``env``: variables set on top of this process's)."""
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed:\n{proc.stderr[-4000:]}')
    return proc


def train_in_process(config, work_dir, *cli_args) -> None:
    """``tools/train.py CONFIG --work-dir WORK_DIR CLI_ARGS`` in this process.

    For tests of what a training does (its logs, checkpoints, a balancer's
    effect), not of the command line: the tool's own argument parsing and
    config building run, and the Python start-up of a subprocess (most of a
    tiny run's time) is saved. Tests of the command itself use ``run_tool``.
    """
    import time
    from unittest import mock

    from mmengine.logging import MessageHub
    from mmengine.runner import Runner
    tool = load_tool('tools/train.py')
    argv = ['train.py', str(config), '--work-dir', str(work_dir),
            *map(str, cli_args)]
    with mock.patch.object(sys, 'argv', argv):
        args = tool.parse_args()
    cfg = tool.build_config(args)
    # Runners built within one second would share a logger and visualizer.
    name = f'{Path(str(work_dir)).name}_{time.time_ns()}'
    cfg.experiment_name = name
    Runner.from_cfg(cfg).train()
    # The runner's message hub (epoch, iteration) stays the current one;
    # a fresh one keeps later tests from reading this run's epoch.
    MessageHub.get_instance(f'after_{name}')


LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def tiny_options(root, encoders=('audio', 'visual'), epochs=2) -> list:
    """--cfg-options that shrink an AV-Digits config for CPU tests.

    The shipped configs run unchanged except for: data at ``root`` (a
    TINY_BUILD), width-4 encoders, batches of 16 in the main process, and
    ``epochs`` epochs (the one-cycle schedule shrunk to match).
    """
    opts = []
    for name in LOADERS:
        opts += [f'{name}.dataset.data_root={root}',
                 f'{name}.batch_size=16', f'{name}.num_workers=0',
                 f'{name}.persistent_workers=False']
        opts += [f'{name}.dataset.build_cfg.{k}={v}'
                 for k, v in TINY_BUILD.items()]
    opts += [f'model.encoders.{m}.base_channels=4' for m in encoders]
    opts += [f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.end={epochs}',
             'default_hooks.logger.interval=1']
    return opts

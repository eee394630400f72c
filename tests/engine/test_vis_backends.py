"""``tools/train.py --vis-backend``: extra mmengine visualisation backends as
a command-line switch, beside the local scalars.json."""
import pytest
from mmengine.config import Config

from conftest import REPO, tiny_options, train_in_process

from armlab.engine.launch import add_vis_backends

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


def _types(cfg):
    return [b['type'] for b in cfg.visualizer.vis_backends]


def test_backends_are_added_once_and_the_local_one_stays():
    pytest.importorskip('tensorboard')
    cfg = Config.fromfile(str(CONFIG))
    add_vis_backends(cfg, ['tensorboard', 'tensorboard'])
    assert _types(cfg) == ['LocalVisBackend', 'TensorboardVisBackend']


def test_unknown_backend_and_missing_package_are_named(monkeypatch):
    cfg = Config.fromfile(str(CONFIG))
    with pytest.raises(ValueError, match="unknown backend 'tensorbord'"):
        add_vis_backends(cfg, ['tensorbord'])
    import importlib.util
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ImportError, match="needs the 'wandb' package"):
        add_vis_backends(cfg, ['wandb'])
    assert _types(cfg) == ['LocalVisBackend']


@pytest.mark.e2e
def test_tensorboard_receives_the_training_scalars(tiny_root, tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    train_in_process(CONFIG, tmp_path, '--vis-backend', 'tensorboard',
                     '--cfg-options', *tiny_options(tiny_root, epochs=1))
    events = list(tmp_path.rglob('events.out.tfevents.*'))
    assert events, 'no TensorBoard event file in the work dir'
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    tags = acc.Tags()['scalars']
    assert 'loss' in tags and 'accuracy/top1' in tags, tags
    assert len(list(tmp_path.rglob('scalars.json'))) == 1

"""Configure a checkpoint's evaluation on a split, as ``tools/test.py`` runs
it; the confusion-matrix tool and other analyses call the same function so
that their numbers are the ones ``tools/test.py`` prints."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from .launch import merge_cli_options, setup_distributed


def eval_config(config: str, checkpoint: str, work_dir: Optional[str] = None,
                split: str = 'val', cfg_options: Optional[dict] = None,
                dump_to: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """The config of a test run: ``checkpoint`` loaded, ``split`` ('val'
    reproduces training's last validation, 'test') evaluated with the
    config's evaluator, and the predictions also dumped to ``dump_to``.
    Logs go to ``work_dir``, else the config's, else
    ``work_dirs/<config name>``."""
    if split not in ('val', 'test'):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file {path!r} not found')
    cfg = Config.fromfile(config)
    merge_cli_options(cfg, cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0])
    cfg.load_from = checkpoint
    if split == 'val':
        cfg.test_dataloader = cfg.val_dataloader
        cfg.test_evaluator = cfg.val_evaluator
    if dump_to:
        evaluators = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpResults', out_file_path=dump_to)]
    setup_distributed(cfg, launcher)
    return cfg

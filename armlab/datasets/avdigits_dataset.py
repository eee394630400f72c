"""AV-Digits as a dataset: builds itself on first use, then adds the knobs.

A config names a ``data_root`` and build parameters; the first run generates
the benchmark there (no download), later runs check that the folder was built
with the same parameters, so a changed config cannot silently train on a
different benchmark.
"""
import json
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

from armlab.registry import DATASETS
from .avdigits.audio_swap import audio_swap_sources, swap_audio_paths
from .avdigits.builder import PATH_PARAMS, build_avdigits, build_params
from .avdigits.presets import resolve_knobs, variant_of
from .multimodal_dataset import MultimodalDataset

_SPLITS = ('train', 'val', 'test')


def ensure_avdigits(data_root: str, build_cfg: Optional[dict] = None) -> dict:
    """Build AV-Digits at ``data_root`` unless it is there; return its meta.

    Under distributed training rank 0 builds while the others wait.

    Raises:
        ValueError: The folder was built with other parameters.
    """
    build_cfg = dict(build_cfg or {})
    run_options = dict(progress=build_cfg.pop('progress', True),
                       num_workers=build_cfg.pop('num_workers', None))
    wanted = build_params(**build_cfg)
    meta_file = osp.join(data_root, 'meta.json')
    rank, world_size = get_dist_info()
    if not osp.isfile(meta_file) and rank == 0:
        print_log(f'AV-Digits not found at {data_root}: building it (no '
                  'download) ...', logger='current')
        build_avdigits(data_root, **run_options, **wanted)
    if world_size > 1:
        barrier()
    if not osp.isfile(meta_file):
        raise FileNotFoundError(f'AV-Digits build at {data_root} left no '
                                f'{meta_file}')
    with open(meta_file, encoding='utf-8') as f:
        meta = json.load(f)
    _check_same_build(meta_file, meta, wanted, data_root)
    return meta


def _check_same_build(meta_file: str, meta: dict, wanted: dict,
                      data_root: str) -> None:
    built = (meta.get('build') or {}).get('params')
    if built is None:
        raise ValueError(f'{meta_file} records no build parameters; it is '
                         'not an AV-Digits build')
    for name, value in wanted.items():
        if name in PATH_PARAMS:
            continue
        if built.get(name) != value:
            raise ValueError(
                f'AV-Digits at {data_root} was built with {name}='
                f'{built.get(name)!r} but build_cfg asks for {name}='
                f'{value!r} ({meta_file}); use another data_root or delete '
                'that folder to rebuild it')


@DATASETS.register_module()
class AVDigitsDataset(MultimodalDataset):
    """One split of AV-Digits, with the load-time imbalance knobs attached.

    Every data info gains ``imbalance``: the knobs (preset, then overrides)
    plus ``split``, read by ``AVDigitsImbalance`` in the pipeline.

    Args:
        split: ``'train'``, ``'val'`` or ``'test'``.
        data_root: Benchmark folder; built there if ``meta.json`` is missing.
        build_cfg: Keyword arguments of
            :func:`armlab.datasets.avdigits.build_avdigits` (``progress``
            too); they must match an existing build.
        preset: Name of an imbalance preset (``'clean'``, ``'balanced'``,
            ``'audio-dominant'``, ``'visual-dominant'``, ``'complementary'``).
        imbalance: Knob overrides (``audio_snr_db``, ``visual_noise_std``,
            ``p_erase_audio``, ``p_erase_visual``, ``p_swap_audio``,
            ``audio_swap_groups``, ``noise_seed``).
        **kwargs: :class:`MultimodalDataset` arguments (``pipeline``,
            ``modalities``, ``test_mode``, ...). ``ann_file`` defaults to
            ``annotations/<split>.json``.
    """

    def __init__(self,
                 split: str = 'train',
                 data_root: str = 'data/avdigits',
                 build_cfg: Optional[dict] = None,
                 preset: Optional[str] = None,
                 imbalance: Optional[Dict[str, Any]] = None,
                 **kwargs) -> None:
        if split not in _SPLITS:
            raise ValueError(f'unknown AV-Digits split {split!r}; use one of '
                             f'{list(_SPLITS)}')
        self.split = split
        self.avdigits_meta = ensure_avdigits(data_root, build_cfg)
        # Presets are calibrated per build variant (digits x speech source).
        self.knobs = resolve_knobs(preset, imbalance,
                                   variant=variant_of(self.avdigits_meta))
        kwargs.setdefault('ann_file', f'annotations/{split}.json')
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> list:
        """Read the split, swap audio for the class-pair ambiguity knob and
        attach the imbalance knobs to every sample."""
        data_list = super().load_data_list()
        knobs = {**self.knobs, 'split': self.split}
        if knobs['p_swap_audio'] > 0:
            classes = self._metainfo.get('classes')
            donors = audio_swap_sources(
                [info['gt_label'] for info in data_list],
                knobs['p_swap_audio'], knobs['audio_swap_groups'],
                knobs['noise_seed'], self.split,
                num_classes=len(classes) if classes else None)
            swap_audio_paths(data_list, donors)
        for info in data_list:
            info['imbalance'] = dict(knobs)
        return data_list

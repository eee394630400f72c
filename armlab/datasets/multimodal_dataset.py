"""One dataset class for every multimodal benchmark.

A benchmark is an annotation file that lists, per sample, an id, a label and
one path per modality (see ``docs/design.md``); everything specific to a
modality happens in the pipeline. So a new dataset needs a preparation tool,
not a new class, and one class serves every split.
"""
import csv
import json
import logging
import os
import os.path as osp
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from armlab.registry import DATASETS
from .draw_seeds import DrawSeeds
from .file_cache import SharedFileCache
from .transforms.deferred import check_deferred_order

#: Extensions the file cache decodes as audio (formats libsndfile reads; the
#: preparation tools' list also has containers it cannot read, e.g. m4a).
CACHEABLE_AUDIO = ('.wav', '.flac', '.ogg', '.mp3', '.aiff', '.aif')

#: Number of missing files quoted in the error message before "and N more".
_MAX_REPORTED = 5
#: Consecutive unreadable samples after which skipping gives up.
_MAX_BAD_IN_A_ROW = 20


def _cache_kind(path: str) -> Optional[str]:
    """'audio' (a file libsndfile decodes), 'frames' (a folder) or None."""
    if path.lower().endswith(CACHEABLE_AUDIO):
        return 'audio'
    return 'frames' if osp.isdir(path) else None


HOLDOUT_PARTS = ('train', 'held_out')


def check_holdout(holdout: Optional[dict]) -> Optional[dict]:
    """The ``holdout`` argument, checked: fraction in (0, 1), a known
    part."""
    if holdout is None:
        return None
    holdout = dict(holdout)
    unknown = set(holdout) - {'fraction', 'seed', 'part'}
    if unknown:
        raise KeyError(f'holdout takes fraction, seed and part; unknown '
                       f'{sorted(unknown)}')
    holdout.setdefault('seed', 0)
    holdout.setdefault('part', 'train')
    if not 0 < float(holdout.get('fraction', 0)) < 1:
        raise ValueError(f'holdout fraction must be in (0, 1), got '
                         f"{holdout.get('fraction')}")
    if holdout['part'] not in HOLDOUT_PARTS:
        raise ValueError(f"holdout part must be one of {HOLDOUT_PARTS}, got "
                         f"{holdout['part']!r}")
    return holdout


def holdout_indices(num: int, fraction: float, seed: int = 0,
                    part: str = 'train') -> List[int]:
    """Sorted positions of one part of the seeded split of ``num``
    samples: ``ceil(fraction * num)`` held out, the rest for training."""
    held = np.random.default_rng(seed).permutation(num)[
        :int(np.ceil(fraction * num))]
    mask = np.zeros(num, dtype=bool)
    mask[held] = True
    return np.flatnonzero(mask if part == 'held_out' else ~mask).tolist()


@DATASETS.register_module()
class MultimodalDataset(BaseDataset):
    """Samples with a label and one file (or folder) per modality.

    Two annotation formats are read:

    - mmengine's JSON: ``{"metainfo": {"classes": [...], ...}, "data_list":
      [{"sample_id": ..., "gt_label": int or class name, "paths": {key: path},
      ...extra fields}]}``;
    - CSV with a header ``sample_id,label,<key>,<key>,...`` where every column
      other than the id and the label is a path (classes then come from the
      ``metainfo`` argument when labels are names).

    Each ``paths`` entry ``key`` becomes the absolute ``data_info[key_path]``
    (relative paths are joined to ``data_root``), which is what the loading
    transforms read. Annotation problems fail at construction, naming the
    annotation file and the sample, rather than deep inside a training run.

    Args:
        ann_file: Annotation file (``.json`` or ``.csv``), relative to
            ``data_root`` unless absolute.
        data_root: Root that relative paths are joined to.
        modalities: Modalities this dataset must provide; every sample needs a
            path key equal to the modality or starting with ``<modality>_``
            (``audio_spec`` serves ``audio``). Stored in ``metainfo``.
        pipeline: Transforms applied to each sample.
        test_mode: Passed to mmengine (no re-fetch of failed samples).
        metainfo: Meta information that overrides the annotation file's,
            e.g. ``dict(classes=[...])`` for a CSV with class names.
        check_files: Check at construction that every referenced path exists.
        skip_bad_samples: Where a sample's files are missing (at
            construction) or cannot be read (in the pipeline: ``OSError`` or
            ``ValueError``), log a warning and drop it or serve the next good
            sample instead of failing. Served replacements carry the bad
            sample ids in ``skipped_samples``, which ``BadSampleHook``
            counts and reports at the end of each epoch. Off by default: a
            bad file is an error that names it.
        cache: Decode the samples' audio files and frame folders once into
            a :class:`~armlab.datasets.file_cache.SharedFileCache` that the
            loading transforms read and every worker shares (``True``: every
            path key that is an audio file or a frame folder; a list: those
            path keys). Worth it when the decoded split fits in memory
            (AV-Digits: about 400 MB for all splits); datasets of this
            process that read the same annotation file share one cache.
        holdout: Keep one part of a seeded split of the samples:
            ``dict(fraction=f, seed=s, part='train' | 'held_out')``. The
            held-out part is ``ceil(f * N)`` samples drawn by ``seed``; the
            train part the rest, in file order. A method that values data
            the encoders did not fit (ARM's ``value_on='held_out'``) trains
            on one part and reads the other.
        on_batch: Override ``on_batch`` of every pipeline transform that
            has it: ``True`` defers their work to the batch (the data
            preprocessor, on the model's device), ``False`` runs it per
            sample in the workers (e.g. the librosa front-end). ``None``
            keeps each transform's own setting.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``indices``, ``serialize_data``, ``lazy_init``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 modalities: Sequence[str] = ('audio', 'visual'),
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 check_files: bool = True,
                 skip_bad_samples: bool = False,
                 cache: Union[bool, Sequence[str]] = False,
                 on_batch: Optional[bool] = None,
                 holdout: Optional[dict] = None,
                 **kwargs) -> None:
        self.holdout = check_holdout(holdout)
        if isinstance(modalities, str):
            modalities = (modalities, )
        self.modalities = tuple(modalities)
        self.check_files = check_files
        self.skip_bad_samples = skip_bad_samples
        self._cache_spec = cache
        #: Decoded files shared with the workers (``cache``); set by
        #: ``full_init``.
        self.file_cache: Optional[SharedFileCache] = None
        #: (seed, epoch) of the pipeline's random draws; set by DrawSeedHook.
        self.draw_seeds = DrawSeeds()
        metainfo = dict(metainfo or {})
        metainfo['modalities'] = self.modalities
        kwargs.setdefault('data_prefix', dict())
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            pipeline=list(pipeline),
            test_mode=test_mode,
            metainfo=metainfo,
            **kwargs)
        if on_batch is not None:
            for transform in self.pipeline.transforms:
                if hasattr(transform, 'on_batch'):
                    transform.on_batch = bool(on_batch)
        check_deferred_order(self.pipeline.transforms)

    # ------------------------------------------------------------ metainfo
    @property
    def CLASSES(self) -> Optional[tuple]:
        """Class names, as in mmpretrain's datasets (``None`` if unknown)."""
        return self._metainfo.get('classes', None)

    @property
    def class_to_idx(self) -> Dict[str, int]:
        """Class name -> index."""
        return {name: i for i, name in enumerate(self.CLASSES or ())}

    def get_cat_ids(self, idx: int) -> List[int]:
        """Category of sample ``idx``, for class-aware samplers."""
        return [int(self.get_data_info(idx)['gt_label'])]

    def get_gt_labels(self) -> np.ndarray:
        """All labels, in dataset order."""
        return np.array(
            [self.get_data_info(i)['gt_label'] for i in range(len(self))],
            dtype=np.int64)

    def filter_data(self) -> List[dict]:
        """mmengine's filter, then the ``holdout`` part (after every
        subclass's own processing of the full list, so that it sees the
        samples it would see without the split)."""
        data_list = super().filter_data()
        if self.holdout is None:
            return data_list
        keep = holdout_indices(len(data_list), **self.holdout)
        return [data_list[i] for i in keep]

    # ------------------------------------------------------------ caching
    def full_init(self) -> None:
        """Load the annotations, then decode the cached files once."""
        if self._fully_initialized:
            return
        super().full_init()
        if self._cache_spec:
            self.file_cache = self._build_cache()

    def _build_cache(self) -> SharedFileCache:
        infos = [self.get_data_info(i) for i in range(len(self))]
        keys = self._cached_keys(infos)
        paths = [i[f'{k}_path'] for i in infos for k in keys]
        audio = [p for p in paths if _cache_kind(p) == 'audio']
        folders = [p for p in paths if _cache_kind(p) == 'frames']
        from .transforms.loading import list_frames
        cache_key = (osp.abspath(str(self.ann_file)), tuple(keys),
                     len(infos), infos[0]['sample_id'] if infos else None,
                     self.skip_bad_samples)
        cache = SharedFileCache.for_files(
            cache_key, audio_paths=audio, frame_folders=folders,
            list_frames=list_frames, progress=True,
            skip_unreadable=self.skip_bad_samples)
        print_log(f'{type(self).__name__}: {len(cache)} decoded files of '
                  f'{self.ann_file} cached in shared memory '
                  f'({cache.nbytes / 2**20:.0f} MB)', logger='current')
        if cache.unreadable:
            print_log(f'{type(self).__name__}: {len(cache.unreadable)} '
                      f'unreadable file(s) left out of the cache '
                      f'(skip_bad_samples=True), e.g. {cache.unreadable[0]}',
                      logger='current', level=logging.WARNING)
        return cache

    def _cached_keys(self, infos: List[dict]) -> List[str]:
        keys = list(infos[0]['path_keys']) if infos else []
        if self._cache_spec is True:
            return [k for k in keys if _cache_kind(infos[0][f'{k}_path'])]
        wanted = [self._cache_spec] if isinstance(self._cache_spec, str) \
            else list(self._cache_spec)
        unknown = [k for k in wanted if k not in keys]
        if unknown:
            raise ValueError(f'{type(self).__name__}: cache keys {unknown} '
                             f'are not path keys of {self.ann_file} '
                             f'({keys})')
        return wanted

    # ------------------------------------------------------- masked copies
    def __getitem__(self, idx: Union[int, Tuple[int, Sequence[bool]]]
                    ) -> Any:
        """Sample ``idx``, or a masked copy when ``idx = (index, present)``.

        Why: the samplers of data-level methods (sample-level valuation, ARM's
        re-sampling) emit extra copies of a sample in which a modality is
        absent. ``present`` (bools in the order of ``self.modalities``)
        becomes ``data_info['modality_mask']`` before the pipeline runs, which
        ``PackMultimodalInputs`` turns into the data sample's mask. A plain
        index behaves exactly as mmengine's ``BaseDataset``; so do
        ``full_init`` and, in training, the re-fetch of a sample whose
        pipeline returns ``None`` (the replacement is then an unmasked random
        sample).
        """
        if isinstance(idx, tuple):
            self._check_masked_index(idx)
        return super().__getitem__(idx)  # type: ignore[arg-type]

    def prepare_data(self, idx: Union[int, Tuple[int, Sequence[bool]]]
                     ) -> Any:
        """Run the pipeline on sample ``idx`` (or on a masked copy)."""
        index, present = idx if isinstance(idx, tuple) else (idx, None)
        skipped: List[str] = []
        while True:
            data_info = self.get_data_info(int(index))
            if self.file_cache is not None:
                data_info['file_cache'] = self.file_cache
            if present is not None:
                data_info['modality_mask'] = dict(
                    zip(self.modalities, map(bool, present)))
            if skipped:
                data_info['skipped_samples'] = list(skipped)
            if not self.skip_bad_samples:
                return self._run_pipeline(data_info, int(index), present)
            try:
                return self._run_pipeline(data_info, int(index), present)
            except (OSError, ValueError) as err:
                skipped.append(str(data_info['sample_id']))
                if len(skipped) >= min(_MAX_BAD_IN_A_ROW, len(self)):
                    raise RuntimeError(
                        f'{self.ann_file}: {len(skipped)} samples in a row '
                        f'failed (skip_bad_samples=True), which points to '
                        f'the pipeline or config rather than bad files; '
                        f'last error: {err}') from err
                print_log(f'{type(self).__name__}: skipping bad sample '
                          f'{data_info["sample_id"]!r} ({err})',
                          logger='current', level=logging.WARNING)
                index = (int(index) + 1) % len(self)

    def _run_pipeline(self, data_info: dict, index: int,
                      present: Optional[Sequence[bool]]) -> Any:
        with self.draw_seeds.seeded(index, present):
            return self.pipeline(data_info)

    def _check_masked_index(self, idx: tuple) -> None:
        if len(idx) != 2:
            raise ValueError(f'{type(self).__name__}: a tuple index must be '
                             f'(index, present), got {idx!r}')
        present = idx[1]
        if len(present) != len(self.modalities):
            raise ValueError(
                f'{type(self).__name__}: mask {tuple(present)!r} of sample '
                f'{idx[0]} has {len(present)} entries, expected one per '
                f'modality {list(self.modalities)}')

    # ------------------------------------------------------------- loading
    def load_data_list(self) -> List[dict]:
        """Read and validate the annotation file."""
        ann_file = self.ann_file
        if not ann_file or not osp.isfile(ann_file):
            raise FileNotFoundError(f'annotation file not found: {ann_file!r}')
        if ann_file.lower().endswith('.csv'):
            file_meta, raw_list = self._read_csv(ann_file)
        else:
            file_meta, raw_list = self._read_json(ann_file)
        for key, value in file_meta.items():
            self._metainfo.setdefault(key, value)
        if self._metainfo.get('classes') is not None:
            self._metainfo['classes'] = tuple(self._metainfo['classes'])
        if not raw_list:
            raise ValueError(f'{ann_file}: empty data_list, no samples')

        data_list = [
            self.parse_data_info(raw, pos) for pos, raw in enumerate(raw_list)
        ]
        self._check_unique_ids(data_list)
        if self.check_files:
            self._check_paths_exist(data_list)
        return data_list

    def parse_data_info(self, raw_data_info: dict,  # type: ignore[override]
                        position: int = -1) -> dict:
        """Turn one raw annotation into a data info.

        Args:
            raw_data_info: ``sample_id``, ``gt_label`` (or ``label``),
                ``paths`` and any extra fields (kept as they are).
            position: Index of the sample in the file, for error messages.

        Returns:
            The data info with ``sample_id``, int ``gt_label`` and one
            absolute ``<key>_path`` per ``paths`` entry.
        """
        where = f'{self.ann_file}, sample #{position}'
        if not isinstance(raw_data_info, dict):
            raise ValueError(f'{where}: expected a JSON object, got '
                             f'{type(raw_data_info).__name__}')
        info = dict(raw_data_info)
        sample_id = info.get('sample_id')
        if sample_id is None or str(sample_id) == '':
            raise ValueError(f'{where}: missing "sample_id"')
        info['sample_id'] = str(sample_id)
        where = f'{self.ann_file}, sample {info["sample_id"]!r}'

        if 'gt_label' not in info and 'label' in info:
            info['gt_label'] = info.pop('label')
        if info.get('gt_label') is None or info.get('gt_label') == '':
            raise ValueError(f'{where}: missing label ("gt_label")')
        info['gt_label'] = self._parse_label(info['gt_label'], where)

        paths = info.pop('paths', None) or {}
        if not isinstance(paths, dict):
            raise ValueError(f'{where}: "paths" must be a mapping key -> '
                             f'path, got {type(paths).__name__}')
        for key, path in paths.items():
            if not isinstance(path, str) or not path:
                raise ValueError(f'{where}: path {key!r} is empty or not a '
                                 f'string ({path!r})')
            info[f'{key}_path'] = self._absolute(path)
        for modality in self.modalities:
            if not any(k == modality or k.startswith(f'{modality}_')
                       for k in paths):
                raise ValueError(
                    f'{where}: no path for modality {modality!r} (paths: '
                    f'{sorted(paths)}); modalities={list(self.modalities)}')
        info['path_keys'] = tuple(paths)
        # Lets transforms resolve dataset-relative files (a vocabulary).
        info['data_root'] = self.data_root
        return info

    # ------------------------------------------------------------- helpers
    def _parse_label(self, label: Any, where: str) -> int:
        """Accept an int (or int-like string) or a class name."""
        classes = self._metainfo.get('classes')
        if isinstance(label, str) and classes is not None \
                and label in classes:
            return list(classes).index(label)
        if isinstance(label, bool):
            raise ValueError(f'{where}: label {label!r} is not a class')
        try:
            value = int(label)
            if isinstance(label, float) and value != label:
                raise ValueError
        except (TypeError, ValueError):
            known = list(classes) if classes is not None else None
            raise ValueError(
                f'{where}: unknown class name {label!r}; known classes: '
                f'{known}') from None
        if classes is not None and not 0 <= value < len(classes):
            raise ValueError(f'{where}: label {value} out of range '
                             f'[0, {len(classes)}) for classes {list(classes)}')
        if value < 0:
            raise ValueError(f'{where}: negative label {value}')
        return value

    def _absolute(self, path: str) -> str:
        path = osp.expanduser(path)
        if not osp.isabs(path):
            path = osp.join(self.data_root or '', path)
        return osp.abspath(path)

    def _read_json(self, ann_file: str):
        try:
            with open(ann_file, encoding='utf-8') as f:
                annotations = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{ann_file}: malformed JSON ({err})') from None
        if not isinstance(annotations, dict) or \
                not isinstance(annotations.get('data_list'), list):
            raise ValueError(f'{ann_file}: expected a JSON object with a '
                             '"data_list" list (and a "metainfo" object)')
        metainfo = annotations.get('metainfo') or {}
        if not isinstance(metainfo, dict):
            raise ValueError(f'{ann_file}: "metainfo" must be an object')
        return metainfo, annotations['data_list']

    def _read_csv(self, ann_file: str):
        with open(ann_file, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if not rows:
            return {}, []
        header = [h.strip() for h in rows[0]]
        label_col = 'gt_label' if 'gt_label' in header else 'label'
        if 'sample_id' not in header or label_col not in header:
            raise ValueError(f'{ann_file}: CSV header must start with '
                             f'"sample_id,label,..."; got {header}')
        raw_list = []
        for line_no, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                raise ValueError(
                    f'{ann_file}, line {line_no}: malformed row with '
                    f'{len(row)} fields, header has {len(header)}: {row}')
            record = dict(zip(header, (cell.strip() for cell in row)))
            raw_list.append(
                dict(sample_id=record.pop('sample_id'),
                     gt_label=record.pop(label_col),
                     paths={k: v for k, v in record.items() if v}))
        return {}, raw_list

    def _check_unique_ids(self, data_list: List[dict]) -> None:
        seen, dups = set(), []
        for info in data_list:
            if info['sample_id'] in seen:
                dups.append(info['sample_id'])
            seen.add(info['sample_id'])
        if dups:
            raise ValueError(f'{self.ann_file}: duplicate sample ids '
                             f'{sorted(set(dups))[:_MAX_REPORTED]}')

    def _check_paths_exist(self, data_list: List[dict]) -> None:
        missing = [(info['sample_id'], info[f'{key}_path'])
                   for info in data_list for key in info['path_keys']
                   if not os.path.exists(info[f'{key}_path'])]
        if missing and self.skip_bad_samples:
            bad = {sid for sid, _ in missing}
            if len(bad) == len(data_list):
                raise FileNotFoundError(
                    f'{self.ann_file}: no sample has all its files '
                    f'(data_root={self.data_root!r}), e.g. {missing[0][1]}')
            data_list[:] = [i for i in data_list if i['sample_id'] not in bad]
            print_log(f'{self.ann_file}: dropped {len(bad)} sample(s) with '
                      f'missing files (skip_bad_samples=True), e.g. '
                      f'{missing[0][1]}', logger='current',
                      level=logging.WARNING)
            return
        if missing:
            shown = '; '.join(f'sample {sid!r}: {path}'
                              for sid, path in missing[:_MAX_REPORTED])
            more = len(missing) - _MAX_REPORTED
            raise FileNotFoundError(
                f'{self.ann_file}: {len(missing)} referenced path(s) do not '
                f'exist (data_root={self.data_root!r}): {shown}' +
                (f' ... and {more} more' if more > 0 else ''))

    def extra_repr(self) -> List[str]:
        return [f'Annotation file: \t{self.ann_file}',
                f'Modalities: \t{list(self.modalities)}']

    def __repr__(self) -> str:
        head = f'Dataset {type(self).__name__}'
        body = [f'Number of samples: \t{len(self)}'
                if self._fully_initialized else "Haven't been initialized"]
        if self.CLASSES is not None:
            body.append(f'Number of categories: \t{len(self.CLASSES)}')
        body += self.extra_repr()
        return '\n'.join([head] + ['    ' + line for line in body])

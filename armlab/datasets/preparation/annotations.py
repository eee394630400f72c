"""Annotation files and ``meta.json`` in the layout of ``docs/design.md``.

Every preparation tool ends here, so that :class:`MultimodalDataset` reads
every benchmark the same way and ``meta.json`` always says what a folder is
and how it was made. Files are written atomically (temporary file, rename):
an interrupted run never leaves half an annotation file.
"""
import hashlib
import json
import numbers
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence

from armlab.fileio.atomic_local import write_atomic

__all__ = ['write_annotations', 'write_json_atomic',
           'package_versions']

#: Packages whose versions change prepared files; recorded in meta.json.
_VERSIONED_PACKAGES = ('numpy', 'scipy', 'librosa', 'soundfile', 'av',
                       'opencv-python', 'opencv-python-headless', 'torch',
                       'torchaudio', 'Pillow')


def write_json_atomic(path: str, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON through a temporary file."""
    text = json.dumps(obj, indent=1, ensure_ascii=False) + '\n'
    write_atomic(text.encode('utf-8'), path)


def package_versions(names: Sequence[str] = _VERSIONED_PACKAGES
                     ) -> Dict[str, str]:
    """Installed versions of ``names`` (missing packages left out)."""
    from importlib.metadata import PackageNotFoundError, version
    versions = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def _check_samples(samples: Sequence[Mapping[str, Any]], classes: List[str],
                   modalities: List[str], root: str, split: str,
                   check_files: bool) -> List[Dict[str, Any]]:
    """Validate the entries and turn class names into indices."""
    where = f'{split!r} annotations of {root}'
    index = {name: i for i, name in enumerate(classes)}
    seen = set()
    entries = []
    for pos, sample in enumerate(samples):
        for key in ('sample_id', 'gt_label', 'paths'):
            if key not in sample:
                raise KeyError(f'{where}: sample #{pos} has no {key!r}; '
                               f'keys: {sorted(sample)}')
        sid = str(sample['sample_id'])
        if sid in seen:
            raise ValueError(f'{where}: duplicate sample_id {sid!r}')
        seen.add(sid)
        label = sample['gt_label']
        if isinstance(label, str):
            if label not in index:
                raise ValueError(f'{where}: sample {sid!r} has label '
                                 f'{label!r}, not one of {classes}')
            label = index[label]
        elif not (isinstance(label, numbers.Integral)
                  and not isinstance(label, bool)
                  and 0 <= label < len(classes)):
            raise ValueError(f'{where}: sample {sid!r} has gt_label '
                             f'{label!r}; need an int in [0, '
                             f'{len(classes)}) or a class name')
        paths = dict(sample['paths'])
        for modality in modalities:
            if not any(k == modality or k.startswith(modality + '_')
                       for k in paths):
                raise KeyError(f'{where}: sample {sid!r} has no path for '
                               f'modality {modality!r}; paths: '
                               f'{sorted(paths)}')
        if check_files:
            for key, path in paths.items():
                full = path if osp.isabs(path) else osp.join(root, path)
                if not osp.exists(full):
                    raise FileNotFoundError(f'{where}: sample {sid!r} '
                                            f'{key!r} path {full} does not '
                                            'exist')
        entry = dict(sample)
        entry.update(sample_id=sid, gt_label=int(label), paths=paths)
        entries.append(entry)
    return entries


def write_annotations(root: str,
                      split: str,
                      samples: Sequence[Mapping[str, Any]],
                      classes: Sequence[str],
                      modalities: Sequence[str],
                      dataset: str,
                      extra_meta: Optional[Mapping[str, Any]] = None,
                      check_files: bool = True) -> str:
    """Write ``<root>/annotations/<split>.json`` and update ``meta.json``.

    Args:
        root: The dataset's ``data_root``.
        split: Split name (``'train'``, ``'val'``, ``'test'`` ...).
        samples: Entries ``{'sample_id', 'gt_label' (int index or class
            name), 'paths': {key: path relative to root}, ...}``; any other
            field (speaker, source file, start time) is kept as an audit
            field. Each modality needs a path key equal to it or starting
            with ``<modality>_`` (``audio_spec`` serves ``audio``). Written
            in the given order.
        classes: Class names; ``gt_label`` indexes them.
        modalities: Modalities every sample provides.
        dataset: Dataset name (``metainfo.dataset``).
        extra_meta: Merged into ``meta.json`` at the top level. By
            convention ``{'tool': script, 'version': tool version,
            'params': {the arguments that change the output}}``.
        check_files: Check that every path exists (relative to ``root``).

    ``meta.json`` holds ``dataset``, ``classes``, ``modalities``, the
    ``extra_meta`` keys, installed ``versions``, and per split its ``counts``
    and the ``sha256`` of its annotation file. Splits written earlier with
    the same dataset, classes, modalities and ``extra_meta`` are kept in it;
    anything else starts it afresh.

    Returns:
        The path of the annotation file.
    """
    classes, modalities = list(classes), list(modalities)
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f'classes must be distinct and non-empty: {classes}')
    entries = _check_samples(samples, classes, modalities, root, split,
                             check_files)
    metainfo = {'dataset': dataset, 'classes': classes,
                'modalities': modalities}
    ann = {'metainfo': metainfo, 'data_list': entries}
    ann_path = osp.join(root, 'annotations', f'{split}.json')
    text = json.dumps(ann, indent=1, ensure_ascii=False) + '\n'
    data = text.encode('utf-8')
    write_atomic(data, ann_path)

    extra = dict(extra_meta or {})
    meta_path = osp.join(root, 'meta.json')
    meta = {**metainfo, **extra, 'versions': package_versions(),
            'counts': {}, 'sha256': {}}
    old = _read_json(meta_path)
    if old is not None and all(old.get(k) == v
                               for k, v in {**metainfo, **extra}.items()):
        for key in ('counts', 'sha256'):
            meta[key] = {s: v for s, v in (old.get(key) or {}).items()
                         if osp.isfile(osp.join(root, 'annotations',
                                                f'{s}.json'))}
    meta['counts'][split] = len(entries)
    meta['sha256'][split] = hashlib.sha256(data).hexdigest()
    write_json_atomic(meta_path, meta)
    return ann_path


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path} is not valid JSON: {err}') from err


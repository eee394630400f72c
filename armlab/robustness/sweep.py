"""Run a model over the levels of a robustness protocol.

One function, :func:`run_sweep`, serves ``tools/robustness.py`` and
``tools/analysis/robustness_results.py``: for each level it builds the
config's test (or val) dataloader with the protocol's transform inserted in
the pipeline, runs ``model.test_step`` over it and scores the predictions
with the config's evaluator, exactly as ``tools/test.py`` does. At level 0
the inserted transform is a no-op, so the first point is the model's clean
accuracy.

Where the transform goes: ``MissingModality`` and spectrogram / frame
corruptions right before ``PackMultimodalInputs`` (they act on model inputs);
waveform corruptions right before the modality's ``AudioSpectrogram`` (after
loading and the dataset's own load-time transforms), so the real front-end
runs on the corrupted sound.
"""
import copy
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner, load_checkpoint
from tqdm import tqdm

from armlab.datasets.train_eval import train_eval_loader_cfg
from armlab.registry import DATASETS, MODELS, TRANSFORMS
from .corruptions import get_corruption
from .masks import PROTOCOLS, smm_subsets

#: Metric whose curve is summarised (AUILC / RR / ER).
DEFAULT_METRIC = 'accuracy/top1'
DEFAULT_SEED = 1111
#: Train samples averaged for the ``mean`` fill.
MEAN_FILL_SAMPLES = 256


@dataclass
class SweepSpec:
    """What to sweep.

    Args:
        kind: ``'missing'`` (a missing-modality protocol over rates),
            ``'subsets'`` (SMM) or ``'corruption'``.
        protocol: RMM / RMFM / TMFM / STMFM / SMM, or the corruption name.
        levels: Rates or corruption levels (ignored by SMM).
        modality: Corruption: the corrupted modality. RMFM: sweep this
            modality's rate only (the others stay at 0); None for all.
        fill: Fill rule (str or dict per modality); None for the protocol's
            default (``model`` for RMM/SMM, ``zero`` otherwise).
        seed: Draw seed (CIDer's 1111).
        min_present: RMM's ``min_present``.
        inform_model: Pass ``missing_mask`` to the model.
        params: Extra corruption parameters.
    """
    kind: str
    protocol: str
    levels: List[float] = field(default_factory=list)
    modality: Optional[str] = None
    fill: Union[None, str, Dict[str, str]] = None
    seed: int = DEFAULT_SEED
    min_present: int = 0
    inform_model: bool = False
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in ('missing', 'subsets', 'corruption'):
            raise ValueError(f'unknown sweep kind {self.kind!r}')
        if self.kind == 'corruption':
            if self.modality is None:
                raise ValueError(f'corruption {self.protocol!r} needs a '
                                 'modality (--modality)')
            get_corruption(self.modality, self.protocol)  # names known ones
        elif self.protocol not in PROTOCOLS:
            raise ValueError(f'unknown protocol {self.protocol!r}; choose '
                             f'one of {PROTOCOLS}')
        if self.kind == 'missing' and self.protocol == 'SMM':
            self.kind = 'subsets'
        if self.kind != 'corruption' and self.modality is not None and \
                self.protocol != 'RMFM':
            raise ValueError(f'a per-modality sweep (modality='
                             f'{self.modality!r}) needs RMFM, not '
                             f'{self.protocol}')
        if self.kind != 'subsets':
            levels = [float(v) for v in self.levels]
            if not levels or any(not 0 <= v <= 1 for v in levels) or \
                    any(b <= a for a, b in zip(levels, levels[1:])):
                raise ValueError(f'levels must increase strictly within '
                                 f'[0, 1], got {self.levels}')
            self.levels = levels

    @property
    def name(self) -> str:
        """The sweep's name: its work-dir folder and table title."""
        if self.kind == 'corruption':
            return f'{self.modality}-{self.protocol}'
        if self.modality is not None:
            return f'{self.protocol}-{self.modality}'
        return self.protocol


def parse_levels(text: str) -> List[float]:
    """``'0:1:0.1'`` (start:stop:step, stop included), ``'0,0.5,1'`` or one
    number, rounded to 6 decimals."""
    text = str(text).strip()
    try:
        if ':' in text:
            start, stop, step = (float(v) for v in text.split(':'))
            if step <= 0:
                raise ValueError
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = [start + i * step for i in range(count)]
        else:
            values = [float(v) for v in text.split(',') if v.strip()]
    except ValueError:
        raise ValueError(f'cannot parse levels {text!r}: use start:stop:step '
                         '(e.g. 0:1:0.1) or a comma list') from None
    return [round(v, 6) for v in values]


# ------------------------------------------------------------------ model
def load_model(cfg: Config, checkpoint: str,
               device: Optional[str] = None) -> torch.nn.Module:
    """Build the config's model and load a checkpoint as the test runner
    does (``module.`` prefixes removed, non-strict); eval mode."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file {checkpoint!r} not found')
    model = MODELS.build(copy.deepcopy(cfg.model))
    load_checkpoint(model, checkpoint, map_location='cpu', strict=False,
                    revise_keys=[(r'^module\.', '')])
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return model.to(device).eval()


# --------------------------------------------------------------- pipelines
def _type_name(transform: dict) -> str:
    kind = transform.get('type') if isinstance(transform, dict) else None
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).split('.')[-1]


def _index(pipeline: Sequence[dict], type_name: str,
           key: Optional[str] = None) -> Optional[int]:
    """First transform of a type (acting on ``key``, whose default is the
    transform's own: 'audio' for the front-end, 'text' for tokenizers)."""
    default = 'text' if 'Tokenize' in type_name else 'audio'
    for i, t in enumerate(pipeline):
        if _type_name(t) == type_name and (
                key is None or t.get('key', default) == key):
            return i
    return None


def pack_index(pipeline: Sequence[dict]) -> Optional[int]:
    """Position of the packing step (images / spectrograms / tokens, or
    feature sequences)."""
    for name in ('PackMultimodalInputs', 'PackFeatureInputs'):
        i = _index(pipeline, name)
        if i is not None:
            return i
    return None


def insertion_index(pipeline: Sequence[dict], where: str,
                    modality: Optional[str] = None) -> int:
    """Where a robustness transform goes: ``'pack'`` (before
    ``PackMultimodalInputs``), ``'front_end'`` (before the modality's
    ``AudioSpectrogram``) or ``'tokenize'`` (before its tokenizer)."""
    if where == 'tokenize':
        for name in ('Tokenize', 'PretrainedTokenize'):
            i = _index(pipeline, name, modality)
            if i is not None:
                return i
        raise ValueError(f'text corruptions of {modality!r} act on strings '
                         'and go before its tokenizer (Tokenize / '
                         'PretrainedTokenize), which the pipeline lacks')
    if where == 'pack':
        i = pack_index(pipeline)
        if i is None:
            raise ValueError('the test pipeline has no PackMultimodalInputs '
                             '(or PackFeatureInputs) to insert the '
                             'robustness transform before')
        return i
    i = _index(pipeline, 'AudioSpectrogram', modality)
    if i is None:
        cached = _index(pipeline, 'LoadSpectrogram') is not None
        raise ValueError(
            f'waveform corruptions of {modality!r} go before its '
            f'AudioSpectrogram front-end, which the test pipeline lacks' +
            (' (it loads cached spectrograms: use a config that computes '
             'them from LoadAudio, or a spectrogram corruption such as '
             'time_mask / freq_mask)' if cached else ''))
    return i


def sweep_transform(spec: SweepSpec, point, modalities: Sequence[str],
                    fill_arrays: Optional[dict] = None
                    ) -> Tuple[dict, str]:
    """The transform config of one sweep point and where it goes."""
    if spec.kind == 'corruption':
        domain = get_corruption(spec.modality, spec.protocol).domain
        where = {'waveform': 'front_end', 'text': 'tokenize'}.get(domain,
                                                                  'pack')
        return dict(type='CorruptModality', name=spec.protocol,
                    modality=spec.modality, level=point, seed=spec.seed,
                    **spec.params), where
    cfg = dict(type='MissingModality', protocol=spec.protocol,
               modalities=tuple(modalities), fill=spec.fill,
               fill_arrays=fill_arrays or None, seed=spec.seed,
               min_present=spec.min_present,
               inform_model=spec.inform_model)
    if spec.kind == 'subsets':
        cfg['present'] = tuple(point)
    elif spec.modality is not None:
        if spec.modality not in modalities:
            raise ValueError(f'modality {spec.modality!r} is not one of the '
                             f'model\'s {list(modalities)}')
        cfg['rate'] = {m: point if m == spec.modality else 0.0
                       for m in modalities}
    else:
        cfg['rate'] = point
    return cfg, 'pack'


def with_transform(loader_cfg: dict, transform: dict, where: str,
                   modality: Optional[str] = None) -> dict:
    """A copy of a dataloader config with ``transform`` in its pipeline.

    A transform that changes the inputs (a corruption, a fill written into
    the input) needs the inputs the per-sample pipeline produces, so the copy
    then runs every step per sample (``dataset.on_batch=False``); one that
    only marks modalities absent (RMM / SMM with the model's fill) keeps the
    steps deferred to the batch, so that rate 0 is exactly the validation.
    """
    loader_cfg = copy.deepcopy(loader_cfg)
    if _has_on_batch(loader_cfg['dataset']) and not getattr(
            TRANSFORMS.build(copy.deepcopy(transform)), 'after_deferred',
            False):
        loader_cfg['dataset']['on_batch'] = False
    pipeline = list(loader_cfg['dataset']['pipeline'])
    i = insertion_index(pipeline, where, modality)
    j = pack_index(pipeline)
    if j is not None and _type_name(transform) == 'MissingModality' and \
            _type_name(pipeline[j]) == 'PackFeatureInputs':
        transform = dict(transform, feature_modalities=tuple(
            pipeline[j].get('feature_modalities', ('audio', 'visual'))))
    if transform.get('inform_model'):
        pack = dict(pipeline[j])
        keys = tuple(pack.get('meta_keys', ('sample_id', 'sample_idx',
                                            'skipped_samples')))
        pack['meta_keys'] = keys + ('missing_mask', )
        pipeline[j] = pack
    pipeline.insert(i, transform)
    loader_cfg['dataset']['pipeline'] = pipeline
    return loader_cfg


def _has_on_batch(dataset_cfg: dict) -> bool:
    """Whether a dataset config's pipeline has a step deferred to the
    batch (then the dataset takes the ``on_batch`` override)."""
    return any(isinstance(t, dict) and t.get('on_batch')
               for t in dataset_cfg.get('pipeline', ()))


def split_loader(cfg: Config, split: str,
                 max_samples: Optional[int] = None) -> dict:
    """The config's test (or val) dataloader, main-process friendly."""
    if split not in ('test', 'val'):
        raise ValueError(f"split must be 'test' or 'val', got {split!r}")
    loader = copy.deepcopy(cfg.get(f'{split}_dataloader'))
    if not loader:
        raise KeyError(f'the config has no {split}_dataloader')
    loader = dict(loader)
    loader['persistent_workers'] = False
    if max_samples:
        loader['dataset'] = dict(loader['dataset'], indices=int(max_samples))
    return loader


# ------------------------------------------------------------------ fills
def _modality_fills(spec: SweepSpec, modalities: Sequence[str]) -> dict:
    if isinstance(spec.fill, dict):
        return dict(spec.fill)
    return {m: spec.fill for m in modalities if spec.fill}


def fill_arrays(cfg: Config, spec: SweepSpec, modalities: Sequence[str],
                work_dir: Optional[str] = None,
                max_samples: int = MEAN_FILL_SAMPLES) -> Dict[str, str]:
    """``mean`` / ``silence`` fill arrays of the modalities that need them,
    computed once and cached as ``fill_<fill>_<modality>.npy`` in
    ``work_dir``; returns modality -> path (or array without a work dir)."""
    out = {}
    for m, fill in _modality_fills(spec, modalities).items():
        if fill not in ('mean', 'silence'):
            continue
        path = osp.join(work_dir, f'fill_{fill}_{m}.npy') if work_dir \
            else None
        if path and osp.isfile(path):
            out[m] = path
            continue
        value = train_mean_input(cfg, m, max_samples) if fill == 'mean' \
            else silence_input(cfg, m)
        if path:
            os.makedirs(work_dir, exist_ok=True)
            np.save(path, value)
            out[m] = path
        else:
            out[m] = value
    return out


def _dataset_without_pack(loader_cfg: dict, stop: Optional[int] = None):
    dataset_cfg = copy.deepcopy(loader_cfg['dataset'])
    pipeline = list(dataset_cfg['pipeline'])
    if stop is None:
        stop = insertion_index(pipeline, 'pack')
    dataset_cfg['pipeline'] = pipeline[:stop]
    dataset_cfg.pop('indices', None)
    if _has_on_batch(dataset_cfg):
        # Unpacked samples must hold the model's inputs, so nothing waits
        # for a batch.
        dataset_cfg['on_batch'] = False
    return DATASETS.build(dataset_cfg), pipeline


def train_mean_input(cfg: Config, modality: str,
                     max_samples: int = MEAN_FILL_SAMPLES) -> np.ndarray:
    """Mean model-input array of ``modality`` over (at most
    ``max_samples``, seeded) train samples read with the test pipeline
    (:func:`~armlab.datasets.train_eval.train_eval_loader_cfg`)."""
    from armlab.evaluation.training_valuation import TrainingSetValuation
    loader = train_eval_loader_cfg(cfg)
    dataset, _ = _dataset_without_pack(loader)
    n = len(dataset)
    indices = TrainingSetValuation.subset_indices(
        n, min(1.0, max_samples / n), DEFAULT_SEED)
    total = None
    for i in tqdm(indices, desc=f'mean {modality} input', leave=False):
        x = np.asarray(dataset[int(i)][modality], np.float64)
        if total is not None and x.shape != total.shape:
            raise ValueError(f'mean fill of {modality!r}: train samples '
                             f'differ in shape ({x.shape} vs {total.shape}); '
                             'the mean fill needs fixed-size inputs')
        total = x if total is None else total + x
    return (total / len(indices)).astype(np.float32)


def silence_input(cfg: Config, modality: str) -> np.ndarray:
    """The front-end's output on digital silence, one column (F,): the
    pipeline up to the front-end runs on the first test sample, its waveform
    is replaced by zeros, and the front-end runs on that."""
    loader = split_loader(cfg, 'test')
    pipeline = loader['dataset']['pipeline']
    i = _index(pipeline, 'AudioSpectrogram', modality)
    if i is None:
        raise ValueError(f'the silence fill of {modality!r} needs its '
                         'AudioSpectrogram front-end in the test pipeline')
    dataset, _ = _dataset_without_pack(loader, stop=i)
    results = dataset[0]
    results[modality] = np.zeros_like(np.asarray(results[modality]))
    spec = TRANSFORMS.build(pipeline[i])(results)[modality]
    return np.asarray(spec, np.float32).mean(axis=-1)


# ------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(model: torch.nn.Module, loader_cfg: dict,
             evaluator_cfg) -> Tuple[Dict[str, float], int]:
    """The test loop: ``model.test_step`` per batch, then the evaluator.

    Returns:
        The metrics and the number of samples evaluated.
    """
    loader = Runner.build_dataloader(loader_cfg)
    evaluator = Evaluator(copy.deepcopy(evaluator_cfg))
    evaluator.dataset_meta = loader.dataset.metainfo
    model.eval()
    for batch in loader:
        outputs = model.test_step(batch)
        evaluator.process(data_samples=outputs, data_batch=batch)
    return evaluator.evaluate(len(loader.dataset)), len(loader.dataset)


def _points(spec: SweepSpec, modalities: Sequence[str]) -> list:
    if spec.kind == 'subsets':
        return smm_subsets(modalities)
    return list(spec.levels)


def _check_fill(spec: SweepSpec, model) -> None:
    fills = spec.fill.values() if isinstance(spec.fill, dict) else [spec.fill]
    if 'learned' in fills and getattr(model.fusion, 'fill', None) != \
            'learned':
        raise ValueError(f'fill "learned" needs a model with learned tokens; '
                         f'this fusion ({type(model.fusion).__name__}) has '
                         f'fill={getattr(model.fusion, "fill", None)!r}')


def run_sweep(model: torch.nn.Module,
              cfg: Config,
              spec: SweepSpec,
              split: str = 'test',
              work_dir: Optional[str] = None,
              max_samples: Optional[int] = None,
              progress: bool = True,
              desc: Optional[str] = None) -> dict:
    """Evaluate ``model`` at every point of ``spec``.

    Args:
        model: A classifier in eval mode (:func:`load_model`).
        cfg: Its config (test pipeline, evaluator, train split for fills).
        spec: The sweep.
        split: ``'test'`` (default) or ``'val'``.
        work_dir: Where fill arrays are cached.
        max_samples: Evaluate the first N samples only (quick checks).
        progress: Show a tqdm bar over the points.

    Returns:
        A JSON-able dict: the spec, ``rows`` (one per point: ``level`` or
        ``present``, and every metric of the evaluator) and context.
    """
    _check_fill(spec, model)
    modalities = tuple(model.modalities)
    loader = split_loader(cfg, split, max_samples)
    evaluator_cfg = cfg.get(f'{split}_evaluator')
    arrays = fill_arrays(cfg, spec, modalities, work_dir) \
        if spec.kind != 'corruption' else None
    rows, num_samples = [], None
    points = _points(spec, modalities)
    bar = tqdm(points, desc=desc or spec.name, unit='point',
               disable=not progress)
    for point in bar:
        transform, where = sweep_transform(spec, point, modalities, arrays)
        point_loader = with_transform(loader, transform, where,
                                      spec.modality)
        metrics, num_samples = evaluate(model, point_loader, evaluator_cfg)
        row = {'present': '+'.join(point)} if spec.kind == 'subsets' \
            else {'level': point}
        row.update({k: float(v) for k, v in metrics.items()})
        rows.append(row)
        bar.set_postfix({DEFAULT_METRIC: f'{row.get(DEFAULT_METRIC, 0):.1f}'})
    fusion_fill = getattr(getattr(model, 'fusion', None), 'fill', None)
    return dict(spec=asdict(spec), name=spec.name, kind=spec.kind,
                split=split, modalities=list(modalities),
                model_fill=fusion_fill, max_samples=max_samples,
                num_samples=num_samples, rows=rows)

"""Test-time missing-modality protocols and corruptions as pipeline steps.

``MissingModality`` runs right before ``PackMultimodalInputs`` (it drops
units of the model-input arrays); ``CorruptModality`` runs where its
corruption's domain lives: waveform corruptions before the audio front-end,
spectrogram and frame corruptions before packing.
``armlab.robustness.sweep`` inserts them; a config may also list them, e.g.
``MissingModality(protocol='RMM', rate=0.5, seed=None, min_present=1)`` in a
train pipeline is modality dropout.
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS
from . import masks as M
from .corruptions import (apply_corruption, corruption_rng,
                                           get_corruption)

#: Fills that go through the model's own absence path (``modality_mask`` ->
#: the fusion's fill: zero / running mean / learned token).
MODEL_FILLS = ('model', 'learned')
#: Fills of input units.
INPUT_FILLS = ('zero', 'mean', 'silence')
WHOLE_MODALITY = ('RMM', 'SMM')


def _sample(results: dict) -> str:
    return f"sample {results.get('sample_id', '<unknown>')!r}"


def _parse_fill(fill: str, protocol: str, modality: str) -> str:
    if fill in MODEL_FILLS:
        if protocol not in WHOLE_MODALITY:
            raise ValueError(
                f'MissingModality: fill {fill!r} (the model\'s absent-'
                f'modality path) applies to whole modalities (RMM, SMM), '
                f'not to {protocol} units of {modality!r}; use one of '
                f'{INPUT_FILLS} or token:<id>')
        return fill
    if fill in INPUT_FILLS:
        return fill
    if isinstance(fill, str) and fill.startswith('token:') and \
            fill[len('token:'):].isdigit():
        return fill
    raise ValueError(f'MissingModality: unknown fill {fill!r} for '
                     f'{modality!r}; choose one of {MODEL_FILLS + INPUT_FILLS}'
                     f' or token:<id>')


@TRANSFORMS.register_module()
class MissingModality(BaseTransform):
    """Drop units or whole modalities of a sample (docs/robustness.md,
    missing-modality protocols).

    Units: a column of the (F, T) spectrogram, a frame of the (T, H, W, C)
    clip, a token of a 1-D id array ([CLS] and the last valid token, [SEP],
    are never dropped). Protocols (r = ``rate``):

    - ``RMM``: each modality missing with probability r (``min_present``
      redraws until that many stay);
    - ``RMFM``: each unit missing with probability r; ``rate`` may be a dict
      or a sequence of per-modality rates;
    - ``TMFM``: each time step missing with probability r in all modalities
      at once; ``STMFM``: one block of round(L r) steps. One step is one
      visual frame interval (``time_base``'s frames); a spectrogram column
      goes with the step its centre falls in (columns spread evenly over the
      clip, as the frames' TSN segments are). **With one frame (AV-Digits)
      there is a single step covering the whole clip: dropping it drops the
      whole sample, every modality at once** (TMFM with probability r,
      STMFM from r >= 0.5);
    - ``SMM``: the modalities not in ``present`` are missing.

    Fills (``fill``, one for all modalities or a dict per modality):
    ``'model'`` (default for RMM/SMM) sets ``results['modality_mask']`` and
    the model replaces the absent features by its fusion's fill (zero,
    running mean or learned token; ``'learned'`` is the same path, for a
    model that has learned tokens); ``'zero'`` (default otherwise), ``'mean'``
    (train-split mean input, ``fill_arrays``), ``'silence'`` (front-end
    output on digital silence, ``fill_arrays``) and ``'token:<id>'`` (text)
    overwrite the input units, and the model is **not told**.

    Draws: with an int ``seed`` the mask is a function of (seed, sample id,
    protocol, rate, modality) only (test protocols: the same masks for every
    model); with ``seed=None`` the draw comes from numpy's global stream,
    which armlab seeds per (seed, epoch, sample) around each sample's
    pipeline (training augmentation: new masks every epoch, reproducible).

    Args:
        protocol: One of ``RMM``, ``RMFM``, ``TMFM``, ``STMFM``, ``SMM``.
        rate: Missing rate in [0, 1]; ``None`` (RMM, RMFM) is CIDer's
            training draw (r ~ U(0, 1) per unit, i.e. Bernoulli(1/2)).
        present: SMM: the modalities kept.
        modalities: Modalities the protocol acts on.
        fill: Fill rule, or a dict modality -> fill rule.
        fill_arrays: Modality -> array or ``.npy`` path for ``mean`` /
            ``silence``: the input's shape (a value per unit) or that shape
            without the unit axis (the same value for every unit).
        seed: Mask seed (1111, CIDer's); ``None`` for training.
        min_present: RMM: at least this many modalities stay (0 = CIDer).
        inform_model: Also write ``results['missing_mask']`` (modality ->
            bool per unit, True = missing); add ``'missing_mask'`` to
            ``PackMultimodalInputs.meta_keys`` to pass it on.
        time_base: TMFM/STMFM: the modality whose frames define the steps.
        pad_id: Padding id of token inputs; their valid length is
            ``results['<key>_length']`` when present, else the non-padding
            count.
        special_ids: Token ids never dropped (armlab's vocabulary: (2, 3)
            for [CLS], [SEP]); None protects the first and last valid
            positions (BERT's [CLS] ... [SEP]).
        feature_modalities: Modalities given as (T, D) feature sequences
            (``PackFeatureInputs``): a unit is a row, and all-zero rows are
            padding, never dropped (the sweep fills this from the pipeline).
    """

    def __init__(self,
                 protocol: str = 'RMM',
                 rate: Union[None, float, Sequence[float],
                             Dict[str, float]] = None,
                 present: Optional[Sequence[str]] = None,
                 modalities: Sequence[str] = ('audio', 'visual'),
                 fill: Union[None, str, Dict[str, str]] = None,
                 fill_arrays: Optional[Dict[str, Union[str,
                                                       np.ndarray]]] = None,
                 seed: Optional[int] = 1111,
                 min_present: int = 0,
                 inform_model: bool = False,
                 time_base: str = 'visual',
                 pad_id: int = 0,
                 special_ids: Optional[Sequence[int]] = None,
                 feature_modalities: Sequence[str] = ()) -> None:
        if protocol not in M.PROTOCOLS:
            raise ValueError(f'MissingModality: unknown protocol '
                             f'{protocol!r}; choose one of {M.PROTOCOLS}')
        self.protocol = protocol
        self.modalities = (modalities, ) if isinstance(modalities, str) \
            else tuple(modalities)
        self.per_modality = protocol == 'RMFM' and isinstance(
            rate, (dict, list, tuple))
        if self.per_modality:
            self.rates = M.parse_rates(rate, self.modalities)
        elif protocol == 'SMM':
            if rate is not None:
                raise ValueError('MissingModality: SMM takes `present`, not '
                                 'a rate')
            self.rates = {m: None for m in self.modalities}
        else:
            if isinstance(rate, (dict, list, tuple)):
                raise ValueError(f'MissingModality: per-modality rates '
                                 f'apply to RMFM only, not {protocol}')
            if rate is None and protocol in ('TMFM', 'STMFM'):
                raise ValueError(f'MissingModality: {protocol} needs a rate')
            M.check_rate(rate)
            self.rates = {m: rate for m in self.modalities}
        self.rate = rate
        if protocol == 'SMM':
            if present is None:
                raise ValueError('MissingModality: SMM needs `present`, the '
                                 'modalities kept')
            present = (present, ) if isinstance(present, str) else present
            unknown = set(present) - set(self.modalities)
            if unknown or not present:
                raise ValueError(f'MissingModality: SMM present={present} '
                                 f'must be a non-empty subset of '
                                 f'{list(self.modalities)}')
        self.present = None if present is None else tuple(present)
        default = 'model' if protocol in WHOLE_MODALITY else 'zero'
        fills = fill if isinstance(fill, dict) else {
            m: fill or default for m in self.modalities}
        unknown = set(fills) - set(self.modalities)
        if unknown:
            raise ValueError(f'MissingModality: fills for unknown modalities '
                             f'{sorted(unknown)}; modalities='
                             f'{list(self.modalities)}')
        self.fills = {m: _parse_fill(fills.get(m, default), protocol, m)
                      for m in self.modalities}
        self.fill_arrays = dict(fill_arrays or {})
        for m, f in self.fills.items():
            if f in ('mean', 'silence') and m not in self.fill_arrays:
                raise ValueError(
                    f'MissingModality: fill {f!r} of {m!r} needs '
                    f'fill_arrays[{m!r}] (armlab.robustness.sweep computes '
                    'and caches them)')
        self._loaded: Dict[str, np.ndarray] = {}
        if seed is not None and int(seed) < 0:
            raise ValueError(f'MissingModality: seed must be >= 0 or None, '
                             f'got {seed}')
        self.seed = seed
        self.min_present = int(min_present)
        if not 0 <= self.min_present <= len(self.modalities):
            raise ValueError(f'MissingModality: min_present must be in '
                             f'[0, {len(self.modalities)}], got {min_present}')
        self.inform_model = inform_model
        self.time_base = time_base
        self.pad_id = pad_id
        self.special_ids = None if special_ids is None else tuple(special_ids)
        self.feature_modalities = (feature_modalities, ) if isinstance(
            feature_modalities, str) else tuple(feature_modalities)

    # -- draws ------------------------------------------------------------
    def _rng_factory(self, results: dict):
        if self.seed is None:
            # Training: one generator per sample from numpy's global stream,
            # which DrawSeeds seeds from (seed, epoch, index).
            rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
            return lambda key, modality: rng
        if 'sample_id' not in results:
            raise KeyError(f'MissingModality: {_sample(results)} has no '
                           '"sample_id" to seed its mask')
        sample_id = str(results['sample_id'])

        def rng_for(key: str, modality: str) -> np.random.Generator:
            rate = self.rate if modality == M.SHARED else \
                self.rates[modality]
            return M.mask_rng(self.seed, sample_id, key, rate, modality)

        return rng_for

    def _array(self, results: dict, modality: str) -> np.ndarray:
        if modality not in results:
            raise KeyError(f'MissingModality: {_sample(results)} has no '
                           f'{modality!r}; put the transform right before '
                           f'PackMultimodalInputs (keys: {sorted(results)})')
        x = np.asarray(results[modality])
        if x.ndim == 1 and not np.issubdtype(x.dtype, np.integer):
            raise ValueError(
                f'MissingModality: {modality!r} of {_sample(results)} is a '
                f'1-D float array (a waveform?); the protocols act on model '
                f'inputs: put the transform after the front-end')
        return x

    def _unit_axis(self, x: np.ndarray, modality: str) -> int:
        # (F, T) spectrogram: time columns; (T, D) feature sequence, (T, H,
        # W, C) clip and 1-D tokens: the first axis.
        if x.ndim == 2 and modality not in self.feature_modalities:
            return x.ndim - 1
        return 0

    def _whole_missing(self, rng_for) -> Dict[str, bool]:
        """RMM / SMM: modality -> missing as a whole."""
        if self.protocol == 'SMM':
            return {m: m not in self.present for m in self.modalities}
        return M.rmm_mask(lambda m: rng_for('RMM', m), self.modalities,
                          self.rate, self.min_present)

    def _unit_masks(self, results: dict) -> Dict[str, np.ndarray]:
        """Modality -> bool per unit (True = missing)."""
        rng_for = self._rng_factory(results)
        arrays = {m: self._array(results, m) for m in self.modalities}
        units = {m: x.shape[self._unit_axis(x, m)]
                 for m, x in arrays.items()}
        if self.protocol in WHOLE_MODALITY:
            whole = self._whole_missing(rng_for)
            return {m: np.full(units[m], whole[m])
                    & self._valid(arrays[m], results, m)
                    for m in self.modalities}
        if self.protocol == 'RMFM':
            key = 'RMFM_per_modality' if self.per_modality else 'RMFM'
            return {
                m: M.bernoulli_units(rng_for(key, m), units[m], self.rates[m],
                                     self._valid(arrays[m], results, m))
                for m in self.modalities
            }
        if self.time_base not in arrays:
            raise KeyError(f'MissingModality: {self.protocol} uses the frames '
                           f'of {self.time_base!r} as time steps, which is '
                           f'not among modalities={list(self.modalities)}')
        steps = units[self.time_base]
        rng = rng_for(self.protocol, M.SHARED)
        step_missing = M.tmfm_steps(rng, steps, self.rate) \
            if self.protocol == 'TMFM' else M.stmfm_steps(rng, steps,
                                                          self.rate)
        return {m: M.units_from_steps(step_missing, units[m])
                & self._valid(arrays[m], results, m)
                for m in self.modalities}

    def _valid(self, x: np.ndarray, results: dict,
               modality: str) -> np.ndarray:
        if x.ndim == 1:
            return M.token_valid_units(x, self.pad_id,
                                       results.get(f'{modality}_length'),
                                       self.special_ids)
        if modality in self.feature_modalities and x.ndim == 2:
            return (x != 0).any(-1)  # zero rows are padding
        return np.ones(x.shape[self._unit_axis(x, modality)], bool)

    # -- fills ------------------------------------------------------------
    def _fill_array(self, modality: str) -> np.ndarray:
        if modality not in self._loaded:
            value = self.fill_arrays[modality]
            self._loaded[modality] = np.load(value) if isinstance(
                value, str) else np.asarray(value)
        return self._loaded[modality]

    def _filled(self, x: np.ndarray, missing: np.ndarray, modality: str,
                results: dict) -> np.ndarray:
        axis = self._unit_axis(x, modality)
        fill = self.fills[modality]
        if fill.startswith('token:'):
            value = np.asarray(int(fill[len('token:'):]), x.dtype)
        elif fill == 'zero':
            value = np.zeros((), x.dtype)
        else:
            value = self._fill_array(modality)
            if value.shape != x.shape:
                per_unit = tuple(np.delete(x.shape, axis))
                if value.shape != per_unit:
                    raise ValueError(
                        f'MissingModality: {fill} fill of {modality!r} has '
                        f'shape {value.shape}; {_sample(results)} needs '
                        f'{x.shape} (a value per unit) or {per_unit}')
                value = np.expand_dims(value, axis)
            if not np.issubdtype(x.dtype, np.floating):
                x = x.astype(np.float32)
        out = np.array(x, copy=True)
        value = np.broadcast_to(value, out.shape).astype(out.dtype)
        view, source = np.moveaxis(out, axis, 0), np.moveaxis(value, axis, 0)
        view[missing] = source[missing]
        return out

    @property
    def after_deferred(self) -> bool:
        """Whole modalities marked absent for the model (RMM / SMM, model
        fills, no per-unit mask): the transform reads and writes no input,
        so it may follow steps deferred to the batch."""
        return (self.protocol in WHOLE_MODALITY and not self.inform_model
                and all(self.fills[m] in MODEL_FILLS
                        for m in self.modalities))

    # -- transform ----------------------------------------------------------
    def transform(self, results: dict) -> dict:
        if self.after_deferred:
            # Only flags change: no need to read the inputs (which may still
            # wait for the batch front-end).
            whole = self._whole_missing(self._rng_factory(results))
            self._flag_absent(results, whole)
            return results
        missing = self._unit_masks(results)
        if self.protocol in WHOLE_MODALITY and any(
                self.fills[m] in MODEL_FILLS for m in self.modalities):
            self._flag_absent(results, {
                m: self.fills[m] in MODEL_FILLS and bool(missing[m].any())
                for m in self.modalities})
        for m in self.modalities:
            if self.fills[m] not in MODEL_FILLS and missing[m].any():
                results[m] = self._filled(np.asarray(results[m]), missing[m],
                                          m, results)
        if self.inform_model:
            results['missing_mask'] = missing
        return results

    def _flag_absent(self, results: dict, absent: Dict[str, bool]) -> None:
        """Mark modalities absent in ``modality_mask`` (the model fills them);
        the others keep their flag, present by default."""
        flags = dict(results.get('modality_mask') or {})
        for m in self.modalities:
            if absent[m]:
                flags[m] = False
            else:
                flags.setdefault(m, True)
        results['modality_mask'] = flags

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(protocol={self.protocol!r}, '
                f'rate={self.rate}, present={self.present}, '
                f'fills={self.fills}, seed={self.seed}, '
                f'min_present={self.min_present}, '
                f'inform_model={self.inform_model})')


@TRANSFORMS.register_module()
class CorruptModality(BaseTransform):
    """Corrupt one modality's raw media at a level (docs/robustness.md,
    corruptions).

    The corruption (``armlab.robustness.corruptions``) names its domain:
    place a ``waveform`` corruption before the audio front-end, and
    ``spectrogram`` / ``frames`` corruptions before packing. Level 0 leaves
    the sample untouched. The draw depends on (seed, sample id, corruption,
    level, modality) only, so every model sees the same corrupted inputs.

    Args:
        name: Corruption name (``awgn``, ``gaussian``, ``jpeg``, ...).
        modality: The ``results`` key to corrupt.
        level: Severity in [0, 1].
        seed: Draw seed; ``None`` draws from numpy's global stream.
        kind: Corruption family (``audio``, ``visual``, ``text``); defaults
            to ``modality``.
        **params: Passed to the corruption (e.g. ``sigma_at_224``).
    """

    _NDIM = {'waveform': 1, 'spectrogram': 2, 'frames': 4, 'tokens': 1}

    def __init__(self, name: str, modality: str = 'audio', level: float = 0.0,
                 seed: Optional[int] = 1111, kind: Optional[str] = None,
                 **params) -> None:
        self.corruption = get_corruption(kind or modality, name)
        if not 0.0 <= float(level) <= 1.0:
            raise ValueError(f'CorruptModality: level must be in [0, 1], got '
                             f'{level}')
        self.name = name
        self.modality = modality
        self.level = float(level)
        self.seed = seed
        self.params = params

    def transform(self, results: dict) -> dict:
        if self.level == 0.0:
            return results
        if self.modality not in results:
            raise KeyError(f'CorruptModality: {_sample(results)} has no '
                           f'{self.modality!r} (keys: {sorted(results)})')
        x = results[self.modality]
        domain = self.corruption.domain
        expected = self._NDIM.get(domain)
        if expected is not None and np.ndim(x) != expected:
            raise ValueError(
                f'CorruptModality: {self.name!r} is a {domain} corruption '
                f'and needs a {expected}-D {self.modality!r}; '
                f'{_sample(results)} has shape {np.shape(x)}. Waveform '
                'corruptions go before the audio front-end, the others '
                'before PackMultimodalInputs.')
        if self.seed is None:
            rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        else:
            if 'sample_id' not in results:
                raise KeyError(f'CorruptModality: {_sample(results)} has no '
                               '"sample_id" to seed its draw')
            rng = corruption_rng(self.seed, results['sample_id'], self.name,
                                 self.level, self.modality)
        params = dict(self.params)
        rate_key = f'{self.modality}_sample_rate'
        if domain == 'waveform' and rate_key in results:
            params.setdefault('sample_rate', results[rate_key])
        results[self.modality] = apply_corruption(self.corruption, x,
                                                  self.level, rng, **params)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(name={self.name!r}, '
                f'modality={self.modality!r}, level={self.level}, '
                f'seed={self.seed}, params={self.params})')

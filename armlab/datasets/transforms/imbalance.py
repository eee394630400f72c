"""Load-time imbalance knobs of AV-Digits (docs/avdigits.md).

The corruption is drawn from a generator seeded by (noise_seed, split,
sample_idx) alone, so every method, batch order and worker count sees the
same corrupted inputs while the files on disk stay clean.

Two implementations of the same knobs: :class:`AVDigitsImbalance` corrupts
one sample in the worker (numpy); with ``on_batch=True`` it only draws which
modalities are erased (the same draw, so the erased sets are identical) and
defers the noise to :class:`BatchAVDigitsImbalance`, which adds it to the
whole batch on the model's device from per-sample torch generators seeded by
the same (noise_seed, split, sample_idx, stream). The two paths give the same
noise *distribution*, not the same numbers (numpy and torch draw
differently; on CUDA torch draws differently again).
"""
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from armlab.registry import TRANSFORMS
from armlab.utils.audio_noise import ACTIVE_LEVEL, add_noise_at_snr
from armlab.utils.seeding import draw_seed
from .deferred import defer

SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
#: Std of the noise floor that replaces erased speech.
ERASED_AUDIO_STD = 0.003
# Independent streams, so that one knob never shifts another's noise.
_STREAM_ERASE, _STREAM_AUDIO, _STREAM_VISUAL = 0, 1, 2


def sample_rng(noise_seed: int, split: str, sample_idx: int,
               stream: int) -> np.random.Generator:
    """The generator of one sample and one kind of corruption."""
    if split not in SPLIT_CODES:
        raise ValueError(f'unknown split {split!r} in results["imbalance"]; '
                         f'use one of {sorted(SPLIT_CODES)}')
    return np.random.default_rng(
        [int(noise_seed), SPLIT_CODES[split], int(sample_idx), stream])


@TRANSFORMS.register_module()
class AVDigitsImbalance(BaseTransform):
    """Apply AV-Digits' SNR, visual-noise and erasure knobs to one sample.

    Place it after the waveform and frames are loaded and before the
    spectrogram. Reads ``results['imbalance']`` (set by
    :class:`~armlab.datasets.AVDigitsDataset`: ``audio_snr_db``,
    ``visual_noise_std``, ``p_erase_audio``, ``p_erase_visual``,
    ``noise_seed``, ``split``) and ``results['sample_idx']``.

    Modifies ``audio`` (float32 waveform in [-1, 1]) and ``visual`` ((T, H, W,
    C), 0-255; float32 once noise is added, never clipped so that sigma keeps
    its meaning) and adds ``erased``: modality -> bool.

    Args:
        knobs: Defaults for knobs missing from ``results['imbalance']``
            (handy outside AVDigitsDataset); ``results`` wins.
        on_batch: Draw the erasures here and defer the noise (and the
            erasure's fill) to :class:`BatchAVDigitsImbalance` in the data
            preprocessor; frames then stay uint8 until the device.
    """

    def __init__(self, knobs: Optional[Dict[str, Any]] = None,
                 on_batch: bool = False) -> None:
        self.knobs = dict(knobs or {})
        self.on_batch = on_batch

    def transform(self, results: dict) -> dict:
        knobs = {**self.knobs, **(results.get('imbalance') or {})}
        split = knobs.get('split', 'train')
        seed = knobs.get('noise_seed', 0)
        idx = results.get('sample_idx')
        if idx is None:
            raise KeyError('AVDigitsImbalance needs results["sample_idx"] to '
                           'seed the per-sample noise')
        # Uniforms drawn whatever p is: erased sets are nested as p grows.
        draw = sample_rng(seed, split, idx, _STREAM_ERASE).random(2)
        erased = {'audio': bool(draw[0] < knobs.get('p_erase_audio', 0.0)),
                  'visual': bool(draw[1] < knobs.get('p_erase_visual', 0.0))}
        if self.on_batch:
            keys = [m for m in ('audio', 'visual') if m in results]
            defer(results, dict(
                type='BatchAVDigitsImbalance', keys=keys,
                audio_snr_db=knobs.get('audio_snr_db'),
                visual_noise_std=float(knobs.get('visual_noise_std') or 0.0),
                noise_seed=int(seed), split=split),
                dict(sample_idx=int(idx), erased=dict(erased)))
            results['erased'] = erased
            return results

        if 'audio' in results:
            results['audio'] = self._audio(results['audio'], knobs,
                                           erased['audio'],
                                           sample_rng(seed, split, idx,
                                                      _STREAM_AUDIO))
        if 'visual' in results:
            results['visual'] = self._visual(results['visual'], knobs,
                                             erased['visual'],
                                             sample_rng(seed, split, idx,
                                                        _STREAM_VISUAL))
        results['erased'] = erased
        return results

    @staticmethod
    def _audio(wave: np.ndarray, knobs: dict, erased: bool,
               rng: np.random.Generator) -> np.ndarray:
        if erased:
            return (ERASED_AUDIO_STD *
                    rng.standard_normal(np.shape(wave))).astype(np.float32)
        snr = knobs.get('audio_snr_db')
        if snr is None:
            return wave
        return add_noise_at_snr(wave, snr, rng)

    @staticmethod
    def _visual(frames: np.ndarray, knobs: dict, erased: bool,
                rng: np.random.Generator) -> np.ndarray:
        if erased:
            return np.zeros(np.shape(frames), np.float32)
        sigma = float(knobs.get('visual_noise_std') or 0.0)
        if sigma == 0.0:
            return frames
        noise = rng.normal(0.0, sigma * 255.0, np.shape(frames))
        return (np.asarray(frames, np.float32) + noise).astype(np.float32)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(knobs={self.knobs}, '
                f'on_batch={self.on_batch})')


def sample_normals(seeds: List[int], shape: tuple,
                   device: torch.device) -> torch.Tensor:
    """(len(seeds), *shape) standard normals, row i from a generator seeded
    by ``seeds[i]`` alone (so a row never depends on its batch-mates)."""
    out = torch.empty((len(seeds), *shape), device=device)
    for row, seed in zip(out, seeds):
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed))
        row.normal_(generator=generator)
    return out


@TRANSFORMS.register_module()
class BatchAVDigitsImbalance:
    """AV-Digits' SNR, pixel-noise and erasure knobs on a batch (deferred by
    ``AVDigitsImbalance(on_batch=True)``).

    Audio (B, N) waveforms get white noise at ``audio_snr_db`` over their
    active samples (|x| > 0.02), or, erased, the 0.003 noise floor; frames
    (B, C, T, H, W) on the 0-255 scale get N(0, (255 sigma)^2) noise, or,
    erased, zeros. Each sample's noise comes from a torch generator seeded by
    (noise_seed, split, sample_idx, stream).

    Args:
        keys: Modalities present in the batch.
        audio_snr_db, visual_noise_std, noise_seed, split: The knobs.
    """

    def __init__(self, keys=('audio', 'visual'),
                 audio_snr_db: Optional[float] = None,
                 visual_noise_std: float = 0.0, noise_seed: int = 0,
                 split: str = 'train') -> None:
        if split not in SPLIT_CODES:
            raise ValueError(f'BatchAVDigitsImbalance: unknown split '
                             f'{split!r}; use one of {sorted(SPLIT_CODES)}')
        self.keys = tuple(keys)
        self.audio_snr_db = audio_snr_db
        self.visual_noise_std = float(visual_noise_std or 0.0)
        self.noise_seed = int(noise_seed)
        self.split_code = SPLIT_CODES[split]

    def _seeds(self, args: List[dict], stream: int) -> List[int]:
        return [draw_seed(self.noise_seed, self.split_code, a['sample_idx'],
                          stream) for a in args]

    def _erased(self, args: List[dict], key: str,
                device: torch.device) -> torch.Tensor:
        return torch.tensor([bool(a['erased'][key]) for a in args],
                            device=device)

    def __call__(self, inputs: Dict[str, torch.Tensor],
                 args: List[dict]) -> Dict[str, torch.Tensor]:
        out = dict(inputs)
        if 'audio' in self.keys:
            out['audio'] = self._audio(inputs['audio'], args)
        if 'visual' in self.keys:
            out['visual'] = self._visual(inputs['visual'], args)
        return out

    def _audio(self, waves: torch.Tensor, args: List[dict]) -> torch.Tensor:
        erased = self._erased(args, 'audio', waves.device)
        if self.audio_snr_db is None and not bool(erased.any()):
            return waves
        waves = waves.float()
        noise = sample_normals(self._seeds(args, _STREAM_AUDIO),
                               tuple(waves.shape[1:]), waves.device)
        shape = (-1, *([1] * (waves.ndim - 1)))
        if self.audio_snr_db is None:
            std = torch.zeros(len(waves), device=waves.device)
        else:
            square = waves.reshape(len(waves), -1).square()
            # |x| > level as x^2 > level^2, in float: one pass fewer.
            active = (square > ACTIVE_LEVEL ** 2).to(square.dtype)
            count = active.sum(1)
            power = torch.where(
                count > 0, (square * active).sum(1) / count.clamp(min=1),
                square.mean(1))
            std = torch.sqrt(power / 10.0 ** (float(self.audio_snr_db) / 10))
        if bool(erased.any()):
            std = torch.where(erased, ERASED_AUDIO_STD, std)
            waves = torch.where(erased.view(shape), 0.0, waves)
        return torch.addcmul(waves, noise, std.view(shape))

    def _visual(self, frames: torch.Tensor,
                args: List[dict]) -> torch.Tensor:
        erased = self._erased(args, 'visual', frames.device)
        if self.visual_noise_std == 0.0 and not bool(erased.any()):
            return frames
        frames = frames.float()
        if self.visual_noise_std != 0.0:
            noise = sample_normals(self._seeds(args, _STREAM_VISUAL),
                                   tuple(frames.shape[1:]), frames.device)
            frames = frames + self.visual_noise_std * 255.0 * noise
        keep = (~erased).view(-1, *([1] * (frames.ndim - 1)))
        return frames * keep

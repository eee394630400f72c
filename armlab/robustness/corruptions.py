"""Test-time corruptions of raw media, one function per corruption.

The armlab suite described in docs/robustness.md ("Corruptions"):
MultiBench-style, with MultiBench's defects fixed, plus JPEG and
spectrogram masking. Every function
is ``fn(x, level, rng, **params) -> x'`` with ``level`` in [0, 1], a
per-sample generator ``rng`` and no other source of randomness;
:func:`apply_corruption` adds the rules shared by all: level 0 returns the
input itself (always clean), frames are corrupted on a [0, 1] scale.

Domains (where the corruption runs in the pipeline):

- ``waveform``: float32 1-D in [-1, 1], before the audio front-end, so that
  the real preprocessing runs on the corrupted sound;
- ``spectrogram``: the (F, T) model input, after the front-end;
- ``frames``: (T, H, W, C) on the 0-255 scale, handed to the function in
  [0, 1]; results are clipped to [min(0, x.min()), max(1, x.max())], so a
  dataset's own unclipped noise (AV-Digits) is never cut by the clip;
- ``text`` (str) and ``tokens`` (1-D int ids): pure functions, ready for the
  text datasets.
"""
import math
import re
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from armlab.utils.audio_noise import ACTIVE_LEVEL, add_noise_at_snr

DOMAINS = ('waveform', 'spectrogram', 'frames', 'text', 'tokens')


@dataclass(frozen=True)
class Corruption:
    """A registered corruption: what it corrupts and how."""
    kind: str  # modality family: 'audio', 'visual' or 'text'
    name: str
    domain: str
    fn: Callable


#: kind -> name -> Corruption.
CORRUPTIONS: Dict[str, Dict[str, Corruption]] = {}
#: The sweeps run by default per modality (tools/analysis/robustness_results).
DEFAULT_SWEEPS = {
    'audio': ('awgn', 'dropout_structured', 'dropout_random', 'time_mask',
              'freq_mask'),
    'visual': ('gaussian', 'salt_pepper', 'contrast', 'blur', 'occlusion',
               'jpeg'),
}


def register(kind: str, name: str, domain: str):
    """Decorator adding ``fn`` to :data:`CORRUPTIONS`."""
    if domain not in DOMAINS:
        raise ValueError(f'unknown domain {domain!r}; use one of {DOMAINS}')

    def wrap(fn: Callable) -> Callable:
        CORRUPTIONS.setdefault(kind, {})[name] = Corruption(
            kind, name, domain, fn)
        return fn

    return wrap


def get_corruption(kind: str, name: str) -> Corruption:
    """The corruption ``name`` of modality family ``kind``, or a clear
    error listing the known ones."""
    if kind not in CORRUPTIONS:
        raise KeyError(f'no corruptions for modality {kind!r}; known '
                       f'modalities: {sorted(CORRUPTIONS)}')
    if name not in CORRUPTIONS[kind]:
        raise KeyError(f'unknown {kind} corruption {name!r}; choose one of '
                       f'{sorted(CORRUPTIONS[kind])}')
    return CORRUPTIONS[kind][name]


def corruption_rng(seed: int, sample_id: str, name: str, level: float,
                   modality: str) -> np.random.Generator:
    """Per-sample generator of one corruption at one level (counter-based,
    like :func:`armlab.robustness.masks.mask_rng`)."""
    def code(text):
        return zlib.crc32(str(text).encode('utf-8'))

    return np.random.default_rng([
        int(seed), code(sample_id), code(f'corruption:{name}'),
        int(round(float(level) * 1e6)), code(modality)
    ])


def apply_corruption(corruption: Corruption, x, level: float,
                     rng: np.random.Generator, **params):
    """Corrupt ``x`` at ``level``; level 0 returns ``x`` itself."""
    level = float(level)
    if not 0.0 <= level <= 1.0:
        raise ValueError(f'{corruption.kind} corruption '
                         f'{corruption.name!r}: level must be in [0, 1], '
                         f'got {level}')
    if level == 0.0:
        return x
    if corruption.domain != 'frames':
        return corruption.fn(x, level, rng, **params)
    frames = np.asarray(x, np.float32) / 255.0
    if frames.ndim != 4:
        raise ValueError(f'visual corruption {corruption.name!r} needs '
                         f'frames (T, H, W, C), got shape {frames.shape}')
    low = min(0.0, float(frames.min()))
    high = max(1.0, float(frames.max()))
    out = corruption.fn(frames, level, rng, **params)
    return (np.clip(out, low, high) * 255.0).astype(np.float32)


# --------------------------------------------------------------- audio: wave
@register('audio', 'awgn', 'waveform')
def awgn(wave, level, rng, snr_max_db: float = 20.0, snr_range_db=30.0,
         **_):
    """White noise at SNR = 20 - 30 level dB over active samples
    (|x| > 0.02), with the AV-Digits imbalance's own noise function."""
    return add_noise_at_snr(wave, snr_max_db - snr_range_db * level, rng)


@register('audio', 'dropout_structured', 'waveform')
def dropout_structured(wave, level, rng, sample_rate: int = 16000,
                       window_s: float = 0.1, **_):
    """Consecutive 100-ms windows zeroed, each with probability level."""
    wave = np.array(wave, np.float32)
    window = max(1, int(round(window_s * sample_rate)))
    drop = rng.random(math.ceil(len(wave) / window)) < level
    wave[np.repeat(drop, window)[:len(wave)]] = 0.0
    return wave


@register('audio', 'dropout_random', 'waveform')
def dropout_random(wave, level, rng, **_):
    """Each waveform sample zeroed with probability level (MultiBench passes
    its arguments in the wrong order; this is the intended corruption)."""
    wave = np.array(wave, np.float32)
    wave[rng.random(wave.shape) < level] = 0.0
    return wave


@register('audio', 'background', 'waveform')
def background(wave, level, rng, noise_files: Sequence[str] = (),
               sample_rate: int = 16000, snr_max_db: float = 20.0,
               snr_range_db: float = 30.0, **_):
    """A real background recording (one of ``noise_files``, chosen per
    sample, tiled or cut to length) at SNR = 20 - 30 level dB."""
    if not noise_files:
        raise ValueError('audio corruption "background" needs noise_files '
                         '(a list of .wav files); armlab ships none')
    import soundfile as sf
    path = noise_files[int(rng.integers(len(noise_files)))]
    noise, rate = sf.read(path, dtype='float32', always_2d=True)
    noise = noise.mean(axis=1)
    if rate != sample_rate:
        import librosa
        noise = librosa.resample(noise, orig_sr=rate, target_sr=sample_rate)
    wave = np.asarray(wave, np.float32)
    noise = np.resize(noise, wave.shape)
    signal = _active_power(wave)
    noise_power = float(np.mean(noise.astype(np.float64)**2))
    if signal == 0.0 or noise_power == 0.0:
        return wave
    snr = snr_max_db - snr_range_db * level
    gain = math.sqrt(signal / (noise_power * 10.0**(snr / 10.0)))
    return (wave + gain * noise).astype(np.float32)


def _active_power(wave: np.ndarray) -> float:
    active = wave[np.abs(wave) > ACTIVE_LEVEL]
    part = active if active.size else wave
    return float(np.mean(part.astype(np.float64)**2))


@register('audio', 'mixed', 'waveform')
def audio_mixed(wave, level, rng, **params):
    """MultiBench parity: with probability level, one of awgn,
    dropout_structured and dropout_random (chosen uniformly) at intensity
    level."""
    if rng.random() >= level:
        return wave
    choice = ('awgn', 'dropout_structured',
              'dropout_random')[int(rng.integers(3))]
    return CORRUPTIONS['audio'][choice].fn(wave, level, rng, **params)


# -------------------------------------------------------- audio: spectrogram
def _mask_value(spec: np.ndarray, value) -> float:
    if value == 'mean':
        return float(spec.mean())
    if value == 'zero':
        return 0.0
    return float(value)


@register('audio', 'time_mask', 'spectrogram')
def time_mask(spec, level, rng, value='mean', **_):
    """One block of round(level * T) consecutive columns of the (F, T)
    model-input spectrogram set to the clip's mean (SpecAugment style)."""
    spec = np.array(spec, np.float32)
    width = int(round(level * spec.shape[-1]))
    start = int(rng.integers(0, spec.shape[-1] - width + 1))
    spec[..., start:start + width] = _mask_value(spec, value)
    return spec


@register('audio', 'freq_mask', 'spectrogram')
def freq_mask(spec, level, rng, value='mean', **_):
    """One block of round(level * F) consecutive frequency rows set to the
    clip's mean."""
    spec = np.array(spec, np.float32)
    height = int(round(level * spec.shape[-2]))
    start = int(rng.integers(0, spec.shape[-2] - height + 1))
    spec[..., start:start + height, :] = _mask_value(spec, value)
    return spec


# ------------------------------------------------------- visual: [0, 1] clips
@register('visual', 'gaussian', 'frames')
def gaussian(x, level, rng, **_):
    """N(0, level^2) on the [0, 1] scale (MultiBench's std was on 0-255)."""
    return x + rng.normal(0.0, level, x.shape).astype(np.float32)


@register('visual', 'salt_pepper', 'frames')
def salt_pepper(x, level, rng, **_):
    """A fraction level of the pixels (all channels) set to 0 or 1, half
    each; colour is kept (MultiBench turned the image grey)."""
    t, h, w, c = x.shape
    x = x.copy().reshape(t * h * w, c)
    chosen = rng.permutation(t * h * w)[:int(round(level * t * h * w))]
    half = len(chosen) // 2
    x[chosen[:half]] = 1.0
    x[chosen[half:]] = 0.0
    return x.reshape(t, h, w, c)


@register('visual', 'contrast', 'frames')
def contrast(x, level, rng, **_):
    """x <- mu + (1 - level)(x - mu), mu the mean of each frame."""
    mu = x.mean(axis=(1, 2, 3), keepdims=True)
    return mu + (1.0 - level) * (x - mu)


@register('visual', 'blur', 'frames')
def blur(x, level, rng, sigma_at_224: float = 3.0, **_):
    """Gaussian blur, sigma = 3 level px at 224 px (scaled to the frame's
    shorter side)."""
    sigma = sigma_at_224 * level * min(x.shape[1:3]) / 224.0
    return _per_frame(x, lambda f: cv2.GaussianBlur(f, (0, 0), sigma))


@register('visual', 'occlusion', 'frames')
def occlusion(x, level, rng, value: float = 0.0, **_):
    """A rectangle of the frame's aspect ratio covering a fraction level of
    the area (a square on square frames), same place in every frame."""
    _, h, w, _ = x.shape
    oh, ow = int(round(h * math.sqrt(level))), int(round(w * math.sqrt(level)))
    top = int(rng.integers(0, h - oh + 1))
    left = int(rng.integers(0, w - ow + 1))
    x = x.copy()
    x[:, top:top + oh, left:left + ow, :] = value
    return x


@register('visual', 'rotate', 'frames')
def rotate(x, level, rng, max_degrees: float = 20.0, **_):
    """Rotation by +-20 level degrees (random sign), black borders."""
    angle = max_degrees * level * (1.0 if rng.random() < 0.5 else -1.0)
    h, w = x.shape[1:3]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle,
                                     1.0)
    return _per_frame(x, lambda f: cv2.warpAffine(
        f, matrix, (w, h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0))


@register('visual', 'crop', 'frames')
def crop(x, level, rng, **_):
    """Crop up to level/5 of each side (uniform per side), resize back."""
    h, w = x.shape[1:3]
    top, bottom, left, right = rng.uniform(0.0, level / 5.0, 4)
    y0, y1 = int(round(top * h)), h - int(round(bottom * h))
    x0, x1 = int(round(left * w)), w - int(round(right * w))
    return _per_frame(x, lambda f: cv2.resize(
        f[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR))


@register('visual', 'jpeg', 'frames')
def jpeg(x, level, rng, **_):
    """JPEG round trip at quality round(100 - 95 level) (8-bit, so values
    are clipped to [0, 1] first)."""
    quality = int(round(100 - 95 * level))

    def code(frame):
        img = np.clip(np.round(frame * 255.0), 0, 255).astype(np.uint8)
        if img.shape[-1] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode('.jpg', img,
                               [int(cv2.IMWRITE_JPEG_QUALITY), quality])
        if not ok:
            raise RuntimeError('JPEG encoding failed')
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if img.shape[-1] == 3:
            out = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
        return out.reshape(frame.shape).astype(np.float32) / 255.0

    return _per_frame(x, code)


def _per_frame(x: np.ndarray, fn: Callable) -> np.ndarray:
    return np.stack([
        np.asarray(fn(np.ascontiguousarray(f, np.float32))).reshape(f.shape)
        for f in x
    ]).astype(np.float32)


# Discrete corruptions: applied to the whole clip with probability level.
def _discrete(name: str):
    def wrap(fn):
        def corruption(x, level, rng, **params):
            return fn(x, rng, **params) if rng.random() < level else x

        corruption.__doc__ = f'{fn.__doc__} Applied with probability level.'
        corruption.__name__ = name
        register('visual', name, 'frames')(corruption)
        return fn

    return wrap


@_discrete('grayscale')
def to_grayscale(x, rng, **_):
    """ITU-R 601 luma in every channel."""
    if x.shape[-1] != 3:
        return x
    luma = x @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(luma[..., None], 3, axis=-1)


@_discrete('invert')
def invert(x, rng, **_):
    """1 - x."""
    return 1.0 - x


@_discrete('flip')
def flip(x, rng, **_):
    """Horizontal flip."""
    return x[:, :, ::-1].copy()


@_discrete('colorize')
def colorize(x, rng, alpha: float = 0.3, **_):
    """Blend 0.3 with a pure red, green or blue layer (chosen per clip)."""
    layer = np.zeros(x.shape[-1], np.float32)
    layer[int(rng.integers(min(3, x.shape[-1])))] = 1.0
    return (1.0 - alpha) * x + alpha * layer


@_discrete('white_balance')
def white_balance(x, rng, kelvin_range: Tuple[float, float] = (2000., 10000.),
                  **_):
    """Channel gains of a colour temperature drawn uniformly in kelvin."""
    if x.shape[-1] != 3:
        return x
    return x * kelvin_to_rgb(float(rng.uniform(*kelvin_range)))


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """RGB gains in [0, 1] of a black body at ``kelvin`` (the usual
    piecewise fit of the CIE colour-matching data, 1000-40000 K)."""
    t = kelvin / 100.0
    red = 255.0 if t <= 66 else 329.698727446 * (t - 60)**-0.1332047592
    green = (99.4708025861 * math.log(t) - 161.1195681661 if t <= 66 else
             288.1221695283 * (t - 60)**-0.0755148492)
    if t >= 66:
        blue = 255.0
    elif t <= 19:
        blue = 0.0
    else:
        blue = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return np.clip(np.array([red, green, blue], np.float32), 0, 255) / 255.0


#: MultiBench's visual chain with its defects fixed; fixed intensities are
#: ours (MultiBench's own were on the wrong scale).
MIXED_VISUAL_CHAIN = (('grayscale', 1.0), ('contrast', 0.5), ('invert', 1.0),
                      ('white_balance', 1.0), ('colorize', 1.0),
                      ('salt_pepper', 0.05), ('gaussian', 0.1),
                      ('rotate', 1.0), ('flip', 1.0), ('crop', 1.0))


@register('visual', 'mixed', 'frames')
def visual_mixed(x, level, rng, **_):
    """MultiBench parity: every corruption of the chain, each applied with
    probability level at its fixed intensity."""
    for name, intensity in MIXED_VISUAL_CHAIN:
        if rng.random() < level:
            x = CORRUPTIONS['visual'][name].fn(x, intensity, rng)
    return x


# ----------------------------------------------------------------- text
_QWERTY_ROWS = ('qwertyuiop', 'asdfghjkl', 'zxcvbnm')


def _qwerty_neighbours() -> Dict[str, str]:
    where = {ch: (r, c) for r, row in enumerate(_QWERTY_ROWS)
             for c, ch in enumerate(row)}
    out = {}
    for ch, (r, c) in where.items():
        out[ch] = ''.join(
            other for other, (r2, c2) in where.items()
            if other != ch and abs(r - r2) <= 1 and abs(c - c2) <= 1)
    return out


QWERTY_NEIGHBOURS = _qwerty_neighbours()


def _letter_swap(word, rng):
    """Swap two adjacent inner letters."""
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 2))
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _random_middle(word, rng):
    """Shuffle the inner letters, first and last kept."""
    if len(word) < 4:
        return word
    middle = list(word[1:-1])
    rng.shuffle(middle)
    return word[0] + ''.join(middle) + word[-1]


def _qwerty_typo(word, rng):
    """Replace one letter by a neighbouring key."""
    spots = [i for i, ch in enumerate(word) if ch.lower() in QWERTY_NEIGHBOURS]
    if not spots:
        return word
    i = spots[int(rng.integers(len(spots)))]
    options = QWERTY_NEIGHBOURS[word[i].lower()]
    new = options[int(rng.integers(len(options)))]
    new = new.upper() if word[i].isupper() else new
    return word[:i] + new + word[i + 1:]


def _sticky_keys(word, rng):
    """Type one letter twice."""
    if not word:
        return word
    i = int(rng.integers(len(word)))
    return word[:i + 1] + word[i] + word[i + 1:]


def _omission(word, rng):
    """Drop one letter."""
    if len(word) < 2:
        return word
    i = int(rng.integers(len(word)))
    return word[:i] + word[i + 1:]


TYPOS = {'letter_swap': _letter_swap, 'random_middle': _random_middle,
         'qwerty_typo': _qwerty_typo, 'sticky_keys': _sticky_keys,
         'omission': _omission}


def _words(text: str) -> List[str]:
    return re.split(r'(\s+)', text)


def _per_word(text: str, level: float, rng, edit: Callable) -> str:
    parts = _words(text)
    for i in range(0, len(parts), 2):  # even parts are words
        if parts[i] and rng.random() < level:
            parts[i] = edit(parts[i], rng)
    return ''.join(parts)


def _typo_corruption(name: str, edit: Callable):
    def corruption(text, level, rng, **_):
        return _per_word(text, level, rng, edit)

    corruption.__doc__ = f'{edit.__doc__} Each word with probability level.'
    register('text', name, 'text')(corruption)


for _name, _edit in TYPOS.items():
    _typo_corruption(_name, _edit)


@register('text', 'typos', 'text')
def typos(text, level, rng, kinds: Optional[Sequence[str]] = None, **_):
    """Each word, with probability level, gets one typo of a kind chosen
    uniformly (letter swap, random middle, qwerty, sticky keys, omission)."""
    kinds = list(kinds or TYPOS)

    def edit(word, rng):
        return TYPOS[kinds[int(rng.integers(len(kinds)))]](word, rng)

    return _per_word(text, level, rng, edit)


@register('text', 'word_dropout', 'text')
def word_dropout(text, level, rng, **_):
    """Each word removed with probability level (words rejoined by one
    space)."""
    words = text.split()
    kept = [w for w in words if rng.random() >= level]
    return ' '.join(kept)


@register('text', 'token_dropout', 'tokens')
def token_dropout(ids, level, rng, unk_id: int = 100, pad_id: int = 0,
                  length: Optional[int] = None,
                  special_ids: Optional[Sequence[int]] = None, **_):
    """Each valid token except [CLS]/[SEP] replaced by [UNK] (BERT id 100;
    armlab's vocabulary: 1, with special_ids=(2, 3)) with probability
    level."""
    from .masks import token_valid_units
    ids = np.array(ids)
    valid = token_valid_units(ids, pad_id, length, special_ids)
    ids[valid & (rng.random(len(ids)) < level)] = unk_id
    return ids

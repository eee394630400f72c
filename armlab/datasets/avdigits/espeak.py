"""espeak-ng speech synthesis through ctypes, for the synthetic audio source.

espeak-ng is GPL-3.0+, so armlab only *executes* the shared library shipped by
the ``espeakng-loader`` wheel (a dependency); nothing is vendored or linked
at build time. The call sequence follows docs/avdigits.md exactly, because libespeak-ng
1.52 keeps hidden state between utterances and seeds its noise from the clock:
deterministic output needs a synchronous initialisation, one explicit random
seed right after it, and a fixed sequential order of utterances, all in a
process that synthesised nothing before. :func:`synthesize_in_fresh_process`
gives every build such a process, which also keeps the library (not
thread-safe) away from the caller's threads.
"""
import ctypes
import json
import os
import re
import subprocess
import sys
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE = 1
ESPEAK_PITCH = 3
ESPEAK_CHARS_UTF8 = 1

# Accent files that are not an accent of spoken English: Shavian is a script.
_NON_ACCENT_FILES = frozenset({'en-Shaw'})
_VARIANT_PATTERN = re.compile(r'^[mf]\d+$')

# (text, voice file name, rate in wpm, pitch 0-100)
Job = Tuple[str, str, int, int]

_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short),
                                  ctypes.c_int, ctypes.c_void_p)


def _loader():
    """Import ``espeakng_loader`` with an error that says how to get it."""
    try:
        import espeakng_loader
    except ImportError as err:  # pragma: no cover - depends on the env
        raise ImportError(
            "audio_source='espeak' needs the package "
            "'espeakng-loader' (pip install espeakng-loader==0.2.4); "
            "or build with audio_source='fsdd'") from err
    return espeakng_loader


def espeak_available() -> bool:
    """Whether the espeak-ng wheel can be imported (tests skip otherwise)."""
    try:
        _loader()
    except ImportError:
        return False
    return True


def data_path() -> str:
    """The espeak-ng data folder shipped by the wheel."""
    return _loader().get_data_path()


def list_english_voices(espeak_data: Optional[str] = None) -> List[str]:
    """Enumerate English voice variants as ``<accent file>+<variant file>``.

    Accents are the English language files (``lang/*/en*``), variants the
    numbered male/female variant files (``voices/!v/m1``, ``f1``, ...). Both
    are read from the data folder so that the list matches the backend; it is
    sorted so that a seeded split of it is reproducible.

    Args:
        espeak_data: espeak-ng data folder; the wheel's by default.

    Returns:
        Sorted voice names such as ``en-GB-scotland+f2`` (104 for 1.52).
    """
    root = espeak_data or data_path()
    accents = set()
    for family in os.listdir(os.path.join(root, 'lang')):
        folder = os.path.join(root, 'lang', family)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if (name == 'en' or name.startswith('en-')) \
                    and name not in _NON_ACCENT_FILES:
                accents.add(name)
    variants = [v for v in os.listdir(os.path.join(root, 'voices', '!v'))
                if _VARIANT_PATTERN.match(v)]
    if not accents or not variants:
        raise RuntimeError(f'no English voices found in espeak-ng data {root}')
    return sorted(f'{a}+{v}' for a in accents for v in variants)


class EspeakSynthesizer:
    """One initialised libespeak-ng, synthesising utterances to int16.

    Create at most one per process, and only in a process meant for it (see
    :func:`synthesize_in_fresh_process`): the library is process-global.

    Args:
        seed: Seed of espeak-ng's noise generator, set once after init.
    """

    def __init__(self, seed: int = 0) -> None:
        loader = _loader()
        self._lib = ctypes.CDLL(loader.get_library_path())
        self._buffer: List[np.ndarray] = []
        lib = self._lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int,
                                          ctypes.c_char_p, ctypes.c_int]
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                     loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError(
                f'espeak_Initialize failed ({rate}) for data '
                f'{loader.get_data_path()}')
        self.sample_rate = int(rate)
        # Keep a reference: a collected callback would crash the library.
        self._callback = _CALLBACK_TYPE(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed(int(seed))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int,
                                            ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]

    def _collect(self, samples, num_samples: int, events) -> int:
        if num_samples > 0:
            self._buffer.append(
                np.ctypeslib.as_array(samples, shape=(num_samples,)).copy())
        return 0

    def synthesize(self, text: str, voice: str, rate: int,
                   pitch: int) -> np.ndarray:
        """Speak ``text`` with a voice file name; return int16 samples."""
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f'espeak-ng rejected voice {voice!r}; use a '
                             'voice file name such as en-US+m3')
        lib.espeak_SetParameter(ESPEAK_RATE, int(rate), 0)
        lib.espeak_SetParameter(ESPEAK_PITCH, int(pitch), 0)
        self._buffer = []
        data = text.encode('utf-8')
        err = lib.espeak_Synth(data, len(data) + 1, 0, 0, 0,
                               ESPEAK_CHARS_UTF8, None, None)
        if err != 0:
            raise RuntimeError(f'espeak_Synth failed ({err}) on {text!r} '
                               f'with voice {voice!r}')
        if not self._buffer:
            return np.zeros(0, np.int16)
        return np.concatenate(self._buffer).astype(np.int16, copy=False)


def backend_version() -> str:
    """The libespeak-ng version string, recorded in the benchmark metadata."""
    loader = _loader()
    lib = ctypes.CDLL(loader.get_library_path())
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    version = lib.espeak_Info(None)
    return f"libespeak-ng {version.decode()} (espeakng-loader " \
           f"{_package_version('espeakng-loader')})"


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return 'unknown'


def synthesize_in_fresh_process(jobs: Sequence[Job], seed: int = 0
                                ) -> Iterator[Tuple[int, np.ndarray]]:
    """Synthesise jobs in order in one new process; yield (rate, samples).

    A single child process owns the whole job list, so every build starts
    from the same library state (a second build in the same process would
    not: the library remembers earlier utterances). The child runs this file
    as a script, which imports only numpy and the wheel (not torch), and
    streams utterances back while the caller post-processes them.
    """
    if not jobs:
        return
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                             str(int(seed))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        # The child reads all of stdin before it writes: no pipe deadlock.
        proc.stdin.write(json.dumps([list(job) for job in jobs]).encode())
        proc.stdin.close()
        header = _read_exact(proc.stdout, 4)
        rate = int(np.frombuffer(header, '<i4')[0])
        for _ in range(len(jobs)):
            length = int(np.frombuffer(_read_exact(proc.stdout, 4), '<i4')[0])
            yield rate, np.frombuffer(_read_exact(proc.stdout, 2 * length),
                                      '<i2').copy()
    finally:
        proc.stdout.close()
        code = proc.wait()
    if code != 0:
        raise RuntimeError(f'espeak-ng worker {__file__} exited with {code}')


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise RuntimeError('espeak-ng worker stopped early; see its error '
                           'message above')
    return data


def _worker_main(seed: int) -> None:
    """Child side: read the job list, write int16 utterances to stdout."""
    jobs = json.loads(sys.stdin.buffer.read().decode())
    synth = EspeakSynthesizer(seed)
    out = sys.stdout.buffer
    out.write(np.asarray([synth.sample_rate], '<i4').tobytes())
    for text, voice, rate, pitch in jobs:
        wave = synth.synthesize(text, voice, rate, pitch).astype('<i2')
        out.write(np.asarray([len(wave)], '<i4').tobytes())
        out.write(wave.tobytes())
    out.flush()


if __name__ == '__main__':
    _worker_main(int(sys.argv[1]))

"""Video and audio decoding, and atomic writers for frames, WAVs and arrays.

Two decoding backends do the same jobs: PyAV (``pip install av``, FFmpeg's
libraries in a wheel) and the ``ffmpeg`` command-line tool. :func:`get_backend`
picks whichever the user has (PyAV first). Every writer goes through a
temporary name and a rename, so an output that exists is complete: that is
what makes the preparation tools resumable.
"""
import os
import os.path as osp
import shutil
import subprocess
from typing import Iterator, List, Optional, Sequence

import numpy as np

from armlab.fileio.atomic_local import atomic_path

__all__ = ['VIDEO_EXTENSIONS', 'AUDIO_EXTENSIONS', 'MediaError',
           'get_backend', 'PyAVBackend', 'FFmpegBackend', 'resize_short_side',
           'write_frames', 'write_wav', 'write_npy', 'extract_frames',
           'extract_audio', 'probe_audio', 'list_media']

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.flv', '.mkv', '.webm', '.mov', '.m4v',
                    '.mpg', '.mpeg', '.3gp')
AUDIO_EXTENSIONS = ('.wav', '.flac', '.mp3', '.m4a', '.aac', '.ogg', '.opus')
JPEG_QUALITY = 95


class MediaError(RuntimeError):
    """A media file cannot be decoded (corrupt, truncated, no stream)."""


# ------------------------------------------------------------------ images
def resize_short_side(image: np.ndarray, short_side: Optional[int]
                      ) -> np.ndarray:
    """Resize so that the shorter side is ``short_side`` (aspect kept).

    ``None`` or 0 keeps the image. Area interpolation when shrinking.
    """
    if not short_side:
        return image
    import cv2
    height, width = image.shape[:2]
    scale = short_side / min(height, width)
    size = (max(1, int(round(width * scale))),
            max(1, int(round(height * scale))))
    if size == (width, height):
        return image
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


def write_frames(frames: Iterator[np.ndarray], folder: str,
                 short_side: Optional[int] = None,
                 quality: int = JPEG_QUALITY) -> int:
    """Write RGB frames as ``frame_0000.jpg`` ... into ``folder`` atomically.

    The frames go to a temporary folder that is renamed at the end, so the
    folder exists only when complete. Returns the number of frames.

    Raises:
        MediaError: No frame was given.
    """
    import cv2
    count = 0
    with atomic_path(folder, folder=True) as temp:
        for count, frame in enumerate(frames, 1):
            image = resize_short_side(frame, short_side)
            ok, data = cv2.imencode(
                '.jpg', cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
            if not ok:
                raise MediaError(f'JPEG encoding failed for frame '
                                 f'{count - 1} of {folder}')
            with open(osp.join(temp, f'frame_{count - 1:04d}.jpg'),
                      'wb') as f:
                f.write(data.tobytes())
        if count == 0:
            raise MediaError(f'no frames to write to {folder}')
    return count


# ------------------------------------------------------------- audio/arrays
def write_wav(wave: np.ndarray, path: str, sample_rate: int) -> None:
    """Write int16 (or float in [-1, 1]) mono samples as 16-bit PCM WAV."""
    import soundfile as sf
    wave = np.asarray(wave)
    if wave.dtype != np.int16:
        wave = np.round(np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)
    with atomic_path(path) as temp:
        sf.write(temp, wave, int(sample_rate), subtype='PCM_16',
                 format='WAV')


def write_npy(array: np.ndarray, path: str) -> None:
    """``np.save`` through a temporary file and a rename."""
    with atomic_path(path) as temp:
        with open(temp, 'wb') as f:
            np.save(f, array, allow_pickle=False)


# ---------------------------------------------------------------- backends
def _fps_select(timed_frames, fps: float) -> Iterator:
    """Keep one frame per 1/fps seconds of the clip.

    Output k is the frame on screen at time t0 + k/fps (the latest frame
    whose timestamp is <= that time), where t0 is the first frame's
    timestamp, so a start offset (audio priming in FLV/MP4) adds no frame.
    A clip that spans S seconds gives round(S * fps) frames (at least one),
    the count FFmpeg's ``fps`` filter gives.

    Args:
        timed_frames: Iterable of (time in s, frame duration in s, frame).
    """
    tol = 1e-6
    k = 0
    prev = None
    start = end = 0.0
    for time, duration, frame in timed_frames:
        if prev is None:
            start = time
        else:
            while time - start > k / fps + tol:
                yield prev
                k += 1
        prev = frame
        end = time + duration
    if prev is None:
        return
    while k < max(1, int(round((end - start) * fps))):
        yield prev
        k += 1


#: A stream that decodes to less than this share of its declared duration
#: is reported as truncated (an interrupted download decodes "fine").
MIN_COVERAGE = 0.75


def _declared_seconds(container, stream) -> Optional[float]:
    """The stream's duration from the header, else the container's."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1e6  # AV_TIME_BASE
    return None


def _check_coverage(path: str, what: str, decoded: float,
                    declared: Optional[float]) -> None:
    if declared and decoded < MIN_COVERAGE * declared:
        raise MediaError(f'{path} looks truncated: its {what} decodes to '
                         f'{decoded:.2f} s of the {declared:.2f} s its header '
                         'declares')


class PyAVBackend:
    """Decoding with PyAV (FFmpeg's libraries, no executable needed)."""

    name = 'pyav'

    def __init__(self) -> None:
        import av  # noqa: F401  (fails here when PyAV is missing)

    @staticmethod
    def _open(path: str):
        import av
        try:
            return av.open(path)
        except (av.FFmpegError, OSError) as err:
            raise MediaError(f'cannot open {path}: {err}') from err

    def iter_frames(self, path: str, fps: float) -> Iterator[np.ndarray]:
        """RGB uint8 frames of the first video stream, ``fps`` per second."""
        import av
        container = self._open(path)
        try:
            if not container.streams.video:
                raise MediaError(f'{path} has no video stream')
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 25)

            span = [None, 0.0]  # first frame time, end of the last one

            def timed():
                for index, frame in enumerate(container.decode(stream)):
                    time = frame.time if frame.time is not None \
                        else index / rate
                    if span[0] is None:
                        span[0] = time
                    span[1] = time + 1.0 / rate
                    yield time, 1.0 / rate, frame
            try:
                # Decode everything before yielding, so that a truncated
                # file fails before any frame is written.
                frames = [f.to_ndarray(format='rgb24')
                          for f in _fps_select(timed(), fps)]
            except av.FFmpegError as err:
                raise MediaError(f'cannot decode the video of {path}: '
                                 f'{err}') from err
            _check_coverage(path, 'video', span[1] - (span[0] or 0.0),
                            _declared_seconds(container, stream))
            yield from frames
        finally:
            container.close()

    def read_audio(self, path: str, sample_rate: int
                   ) -> Optional[np.ndarray]:
        """Mono int16 samples at ``sample_rate``; ``None`` without audio."""
        import av
        container = self._open(path)
        try:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format='s16', layout='mono',
                                          rate=int(sample_rate))
            chunks: List[np.ndarray] = []
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
            except av.FFmpegError as err:
                raise MediaError(f'cannot decode the audio of {path}: '
                                 f'{err}') from err
            wave = (np.concatenate(chunks).astype(np.int16, copy=False)
                    if chunks else np.zeros(0, np.int16))
            if wave.size:
                _check_coverage(path, 'audio', wave.size / sample_rate,
                                _declared_seconds(container, stream))
            return wave
        finally:
            container.close()


class FFmpegBackend:
    """Decoding with the ``ffmpeg`` executable (raw output through a pipe)."""

    name = 'ffmpeg'

    def __init__(self, executable: Optional[str] = None) -> None:
        self.executable = executable or shutil.which('ffmpeg')
        if not self.executable:
            raise FileNotFoundError('ffmpeg not found on PATH')
        self.ffprobe = shutil.which('ffprobe') or osp.join(
            osp.dirname(self.executable), 'ffprobe')

    def _run(self, args: List[str], path: str, what: str) -> bytes:
        proc = subprocess.run([self.executable, '-nostdin', '-v', 'error',
                               '-i', path, *args], capture_output=True)
        if proc.returncode != 0:
            message = proc.stderr.decode(errors='replace').strip()
            raise MediaError(f'ffmpeg cannot decode the {what} of {path}: '
                             f'{message[-500:]}')
        return proc.stdout

    def _video_size(self, path: str):
        proc = subprocess.run(
            [self.ffprobe, '-v', 'error', '-select_streams', 'v:0',
             '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path],
            capture_output=True, text=True)
        try:
            width, height = map(int, proc.stdout.strip().split(',')[:2])
        except ValueError:
            raise MediaError(f'{path} has no readable video stream: '
                             f'{proc.stderr.strip()[-500:]}') from None
        return width, height

    def iter_frames(self, path: str, fps: float) -> Iterator[np.ndarray]:
        width, height = self._video_size(path)
        data = self._run(['-map', '0:v:0', '-vf', f'fps={fps}', '-f',
                          'rawvideo', '-pix_fmt', 'rgb24', '-'], path,
                         'video')
        frames = np.frombuffer(data, np.uint8).reshape(-1, height, width, 3)
        yield from frames

    def read_audio(self, path: str, sample_rate: int
                   ) -> Optional[np.ndarray]:
        probe = subprocess.run(
            [self.ffprobe, '-v', 'error', '-select_streams', 'a',
             '-show_entries', 'stream=index', '-of', 'csv=p=0', path],
            capture_output=True, text=True)
        if probe.returncode != 0:
            raise MediaError(f'cannot open {path}: '
                             f'{probe.stderr.strip()[-500:]}')
        if not probe.stdout.strip():
            return None
        data = self._run(['-map', '0:a:0', '-ac', '1', '-ar',
                          str(int(sample_rate)), '-f', 's16le', '-'], path,
                         'audio')
        return np.frombuffer(data, '<i2').astype(np.int16)


def get_backend(name: str = 'auto'):
    """The decoding backend: ``'pyav'``, ``'ffmpeg'`` or ``'auto'`` (PyAV if
    importable, else the ffmpeg CLI).

    Raises:
        RuntimeError: Neither is available (naming both and how to get them).
    """
    if name not in ('auto', 'pyav', 'ffmpeg'):
        raise ValueError(f"unknown media backend {name!r}; use 'auto', "
                         "'pyav' or 'ffmpeg'")
    errors = []
    for candidate in (('pyav', 'ffmpeg') if name == 'auto' else (name, )):
        try:
            return PyAVBackend() if candidate == 'pyav' else FFmpegBackend()
        except ImportError as err:
            errors.append(f'PyAV: {err}')
        except FileNotFoundError as err:
            errors.append(f'ffmpeg CLI: {err}')
    raise RuntimeError(
        'no video decoder: install PyAV (`pip install av`, or armlab\'s '
        '`video` extra) or put the ffmpeg executable on PATH '
        f"({'; '.join(errors)})")


# ------------------------------------------------------------------- jobs
def extract_frames(video: str, folder: str, fps: float = 1.0,
                   short_side: Optional[int] = None,
                   backend: str = 'auto',
                   quality: int = JPEG_QUALITY) -> int:
    """Decode ``video`` at ``fps`` frames per second into a JPEG folder.

    Returns:
        The number of frames written.
    """
    if fps <= 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    decoder = get_backend(backend)
    return write_frames(decoder.iter_frames(video, fps), folder, short_side,
                        quality)


def probe_audio(media: str, sample_rate: int = 16000,
                backend: str = 'auto') -> Optional[np.ndarray]:
    """Decoded mono int16 audio, or ``None`` when there is none to speak of
    (no audio stream, no samples, or digital silence)."""
    wave = get_backend(backend).read_audio(media, sample_rate)
    if wave is None or wave.size == 0 or not np.any(wave):
        return None
    return wave


def extract_audio(media: str, path: str, sample_rate: int = 16000,
                  backend: str = 'auto') -> int:
    """Decode ``media``'s first audio stream to a mono 16-bit PCM WAV.

    Returns:
        The number of samples written.

    Raises:
        MediaError: No audio (no stream, no samples, or silence).
    """
    wave = probe_audio(media, sample_rate, backend)
    if wave is None:
        raise MediaError(f'{media} has no audio (no stream, no samples or '
                         'digital silence)')
    write_wav(wave, path, sample_rate)
    return int(wave.size)


def list_media(root: str, extensions: Sequence[str]) -> List[str]:
    """Files under ``root`` (recursively) with one of ``extensions``, as
    sorted paths relative to ``root``; ``root`` may also be one file."""
    extensions = tuple(e.lower() for e in extensions)
    if osp.isfile(root):
        return [''] if root.lower().endswith(extensions) else []
    if not osp.isdir(root):
        raise FileNotFoundError(f'input {root} does not exist')
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            if name.lower().endswith(extensions) and not name.startswith('.'):
                found.append(osp.relpath(osp.join(folder, name), root))
    return sorted(found)

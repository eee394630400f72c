"""Read a training work dir: its sessions, the run they form, and metadata.

``tools/train.py`` writes one timestamped folder per launch
(``<work_dir>/<ts>/<ts>.log`` and ``<ts>/vis_data/scalars.json``). A launch
with ``--resume`` continues the previous one (its scalars pick up where the
checkpoint was saved); any other launch into the same work dir starts a new
run. :func:`load_run` groups the sessions into runs, takes one (the latest
by default) and merges its scalars by step, so that an epoch that was
trained twice (a crash after the checkpoint, then a resume) appears once,
with the values of the session that finished it.

``tools/test.py`` leaves ``<ts>/<ts>.json`` (the test metrics) beside its log
and no ``scalars.json``; :func:`find_test_results` collects those.
"""
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from armlab.utils.scalars import epoch_series, read_scalar_file

#: Bookkeeping fields of a scalars row, not scalars.
ROW_FIELDS = ('step', 'epoch', 'iter')

_LOG_LINE = re.compile(
    r'^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) - \S+ - \w+ - (.*)$')
_TRAIN_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\s*\[\s*(\d+)/(\d+)\]')
_VAL_LINE = re.compile(r'Epoch\(val\)\s*\[(\d+)\]')
_SAVED = re.compile(r'Saving checkpoint at (\d+) epochs')
_RESUMED = re.compile(r'resumed epoch: (\d+), iter: (\d+)')
_SEED = re.compile(r'^\s+seed: (\S+)\s*$')
_EXP_NAME = re.compile(r'Exp name: (\S+)')
_LOAD = re.compile(r'Load checkpoint from (\S+)')
_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')


@dataclass
class Session:
    """One launch of ``tools/train.py`` into a work dir."""

    dir: Path
    rows: List[dict]
    log: List[Tuple[datetime, str]] = field(default_factory=list)

    @property
    def timestamp(self) -> str:
        return self.dir.name

    @property
    def resumed_from(self) -> Optional[Tuple[int, int]]:
        """(epoch, iter) of the checkpoint it resumed from, or None.

        Read from the log's ``resumed epoch: E, iter: I``; without a log, a
        session whose first training row is past epoch 1 is a resume too.
        """
        for _, msg in self.log:
            match = _RESUMED.search(msg)
            if match:
                return int(match.group(1)), int(match.group(2))
        train = [r for r in self.rows if 'iter' in r]
        if train and train[0].get('epoch', 1) > 1:
            return train[0]['epoch'] - 1, train[0]['step'] - 1
        return None

    def seconds_and_epochs(self) -> Tuple[float, int]:
        """Wall time of the training epochs this session finished, and how
        many it finished.

        From the log's timestamps (1 s resolution): from the last line
        before the first training iteration to the last line that marks an
        epoch done (its checkpoint, its validation, or its last iteration),
        validation included.
        """
        start, end, done = None, None, set()
        for i, (when, msg) in enumerate(self.log):
            match = _TRAIN_LINE.search(msg)
            if match and start is None:
                start = self.log[i - 1][0] if i else when
            epoch = _epoch_done(msg)
            if start is not None and epoch is not None:
                done.add(epoch)
                end = when
        if start is None or not done:
            return 0.0, 0
        return (end - start).total_seconds(), len(done)

    def first_match(self, pattern: re.Pattern) -> Optional[str]:
        for _, msg in self.log:
            match = pattern.search(msg)
            if match:
                return match.group(1)
        return None


@dataclass
class TrainingRun:
    """A fresh training session and the sessions that resumed it."""

    work_dir: Path
    sessions: List[Session]
    rows: List[dict]

    @property
    def name(self) -> str:
        return self.work_dir.name

    @property
    def timestamps(self) -> List[str]:
        return [s.timestamp for s in self.sessions]

    @property
    def config_name(self) -> Optional[str]:
        """The config's file stem, from the log's ``Exp name: <stem>_<ts>``
        or else the one config file the runner dumped into the work dir."""
        for s in self.sessions:
            name = s.first_match(_EXP_NAME)
            if name and name.endswith('_' + s.timestamp):
                return name[:-len(s.timestamp) - 1]
        dumped = sorted(self.work_dir.glob('*.py'))
        return dumped[0].stem if len(dumped) == 1 else None

    @property
    def seed(self) -> Optional[str]:
        """The seed of the runtime environment block of the first log."""
        for s in self.sessions:
            for line in _log_text(s.dir).splitlines():
                match = _SEED.match(line)
                if match:
                    return match.group(1)
        return None

    @property
    def seconds_per_epoch(self) -> Optional[float]:
        total = [s.seconds_and_epochs() for s in self.sessions]
        epochs = sum(n for _, n in total)
        return sum(t for t, _ in total) / epochs if epochs else None

    @property
    def config_path(self) -> Optional[Path]:
        """The config as the runner dumped it for the last session."""
        path = self.sessions[-1].dir / 'vis_data' / 'config.py'
        return path if path.is_file() else None

    @cached_property
    def modalities(self) -> List[str]:
        """Modality names: the encoders of the dumped config, and those of
        the ``acc_<m>_mask`` scalars."""
        names: List[str] = []
        if self.config_path is not None:
            try:
                from mmengine.config import Config
                cfg = Config.fromfile(str(self.config_path),
                                      import_custom_modules=False)
                names = list(cfg.model.get('encoders', {}))
            except Exception:  # an unreadable dump: fall back on the keys
                names = []
        for row in self.rows:
            for key in row:
                match = re.match(r'^acc_(.+)_mask$', key)
                if match and match.group(1) not in names:
                    names.append(match.group(1))
        return names

    def epoch_series(self, key: str) -> Tuple[List[float], List[float]]:
        return epoch_series(self.rows, key)


def _epoch_done(msg: str) -> Optional[int]:
    """The epoch a log message shows finished, if it shows one."""
    for pattern in (_SAVED, _VAL_LINE):
        match = pattern.search(msg)
        if match:
            return int(match.group(1))
    match = _TRAIN_LINE.search(msg)
    if match and match.group(2) == match.group(3):
        return int(match.group(1))
    return None


def _log_text(session_dir: Path) -> str:
    log = session_dir / f'{session_dir.name}.log'
    return log.read_text(errors='replace') if log.is_file() else ''


def _parse_log(session_dir: Path) -> List[Tuple[datetime, str]]:
    lines = []
    for line in _log_text(session_dir).splitlines():
        match = _LOG_LINE.match(line)
        if match:
            lines.append((datetime.strptime(match.group(1),
                                            '%Y/%m/%d %H:%M:%S'),
                          match.group(2)))
    return lines


def find_sessions(work_dir) -> List[Session]:
    """The training sessions of a work dir, oldest first."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise FileNotFoundError(f'work dir {str(work_dir)!r} not found')
    files = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not files:
        tests = [p.parent.name for p in work_dir.glob('*/*.json')
                 if p.stem == p.parent.name]
        hint = (f' (it holds only test sessions: {", ".join(tests)})'
                if tests else '')
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under {str(work_dir)!r}'
            f'{hint}: pass a work dir written by tools/train.py')
    return [Session(f.parent.parent, read_scalar_file(f), _parse_log(f.parent.parent))
            for f in files]


def group_runs(sessions: Sequence[Session]) -> List[List[Session]]:
    """Split sessions into runs: a resumed session joins the run before."""
    runs: List[List[Session]] = []
    for session in sessions:
        if session.resumed_from is not None and runs:
            runs[-1].append(session)
        else:
            runs.append([session])
    return runs


def merge_rows(sessions: Sequence[Session]) -> List[dict]:
    """The scalars of a run, each step once.

    A resumed session restarts at its checkpoint: the rows that earlier
    sessions logged after that point (work that the resume redid) are
    dropped, and the resumed session's rows follow.
    """
    rows: List[dict] = []
    for session in sessions:
        resumed = session.resumed_from
        if resumed is not None:
            epoch, it = resumed
            rows = [r for r in rows if _before(r, epoch, it)]
        rows += session.rows
    return rows


def _before(row: dict, epoch: int, it: int) -> bool:
    """Whether a row was logged before a checkpoint at (epoch, iter)."""
    if 'iter' not in row:
        return row['step'] <= epoch  # epoch-level rows: step is the epoch
    return row['epoch'] <= epoch if 'epoch' in row else row['step'] <= it


def load_run(path, timestamp: Optional[str] = None) -> TrainingRun:
    """The training run of a work dir.

    Args:
        path: A work dir, or one of its timestamped session folders (which
            selects the run that session belongs to).
        timestamp: Select the run holding this session (``YYYYmmdd_HHMMSS``);
            default: the latest run.
    """
    path = Path(path)
    if (path / 'vis_data').is_dir() and _TIMESTAMP.match(path.name):
        if timestamp not in (None, path.name):
            raise ValueError(f'{path} is session {path.name}, but timestamp '
                             f'{timestamp!r} was asked for')
        path, timestamp = path.parent, path.name
    runs = group_runs(find_sessions(path))
    if timestamp is None:
        chosen = runs[-1]
    else:
        chosen = next((run for run in runs
                       if timestamp in [s.timestamp for s in run]), None)
        if chosen is None:
            known = [s.timestamp for run in runs for s in run]
            raise ValueError(f'{path} has no training session {timestamp!r}; '
                             f'it has {known}')
    rows = merge_rows(chosen)
    if not any(k not in ROW_FIELDS for row in rows for k in row):
        raise ValueError(f'{path}: the scalars of sessions '
                         f'{[s.timestamp for s in chosen]} are empty')
    return TrainingRun(path, chosen, rows)


def find_test_results(work_dir) -> List[Dict]:
    """Metrics of every ``tools/test.py`` session in or one level below the
    work dir, oldest first: ``{'timestamp', 'metrics', 'checkpoint',
    'split'}`` (``split`` from the dumped config, None when unreadable)."""
    work_dir = Path(work_dir)
    found = []
    for pattern in ('*/*.json', '*/*/*.json'):
        for path in work_dir.glob(pattern):
            session = path.parent
            if path.stem != session.name or not _TIMESTAMP.match(path.stem):
                continue
            try:
                metrics = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
            if not isinstance(metrics, dict):
                continue
            checkpoint = None
            for _, msg in _parse_log(session):
                match = _LOAD.search(msg)
                if match:
                    checkpoint = match.group(1)
            found.append(dict(timestamp=session.name, dir=str(session),
                              metrics=metrics, checkpoint=checkpoint,
                              split=_test_split(session)))
    return sorted(found, key=lambda r: r['timestamp'])


def _test_split(session: Path) -> Optional[str]:
    """The split a test session evaluated (its config's test dataset)."""
    config = session / 'vis_data' / 'config.py'
    if not config.is_file():
        return None
    try:
        from mmengine.config import Config
        cfg = Config.fromfile(str(config), import_custom_modules=False)
        dataset = cfg.test_dataloader.dataset
        return dataset.get('split') or dataset.get('ann_file')
    except Exception:  # an unreadable dump: split unknown
        return None

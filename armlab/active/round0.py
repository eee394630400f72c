"""The shared round 0: one random labelled set and one model per seed.

Every strategy of a comparison must start from the same labelled set and the
same round-0 model (BMMAL copies them "for fair comparison"). The first run
of a seed trains round 0 in ``<work_root>/round0_seed<k>/`` (in a temporary
folder renamed when complete, so a crash or a concurrent run never leaves a
half-made cache); later runs copy it. A fingerprint of what round 0 depends
on (model, data, optimiser, schedule, epochs, initial budget, seed) is saved
with it, and a run whose settings differ refuses the cache, naming what
differs, instead of silently comparing against another round 0.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import uuid
from typing import Callable, Dict

from .records import read_json, write_json

#: Written last: a round-0 folder without it is incomplete.
MARKER = 'round0.json'
#: Files a complete round-0 folder holds besides the checkpoints.
RECORDS = ('labelled.json', 'metrics.json', MARKER)


def _plain(value):
    return value.to_dict() if hasattr(value, 'to_dict') else value


def fingerprint(parts: Dict) -> Dict[str, str]:
    """A short hash of each part (config sections, budgets, seed)."""
    return {
        name: hashlib.sha1(json.dumps(_plain(v), sort_keys=True,
                                      default=str).encode()).hexdigest()[:16]
        for name, v in parts.items()
    }


def is_complete(folder: str) -> bool:
    return all(osp.isfile(osp.join(folder, f)) for f in RECORDS)


def resolve_source(path: str) -> str:
    """The round-0 folder of ``path``: a run dir (its ``round_0``) or a
    round-0 cache dir itself."""
    for folder in (osp.join(path, 'round_0'), path):
        if is_complete(folder):
            return folder
    raise FileNotFoundError(
        f'round0_from={path!r}: neither it nor {osp.join(path, "round_0")} '
        f'holds a finished round 0 ({", ".join(RECORDS)})')


def check_fingerprint(folder: str, expected: Dict[str, str]) -> None:
    saved = read_json(osp.join(folder, MARKER)).get('fingerprint', {})
    differ = sorted(k for k in set(saved) | set(expected)
                    if saved.get(k) != expected.get(k))
    if differ:
        raise ValueError(
            f'the round 0 in {folder} was made with other settings ({differ} '
            'differ: model, data, optimiser, schedule, epochs, initial '
            'budget or seed); strategies compared on different round-0 '
            'models are not comparable. Delete that folder, or use another '
            'work root / round0_from.')


def ensure_cache(folder: str, expected: Dict[str, str],
                 make: Callable[[str], None]) -> str:
    """The complete round-0 cache at ``folder``, made by ``make(tmp)`` if
    absent. ``make`` writes labelled.json, metrics.json and checkpoints
    into ``tmp``; the marker and the rename happen here."""
    if not is_complete(folder):
        if osp.isdir(folder):  # a leftover of a crash: start over
            shutil.rmtree(folder)
        tmp = f'{folder}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}'
        os.makedirs(tmp)
        try:
            make(tmp)
            write_json(dict(fingerprint=expected), osp.join(tmp, MARKER))
            try:
                os.rename(tmp, folder)
            except OSError:
                # Another run finished it first: keep theirs.
                if not is_complete(folder):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    check_fingerprint(folder, expected)
    return folder


def copy_round0(source: str, target: str) -> None:
    """Copy a finished round 0 into a run (replacing a partial copy)."""
    if osp.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(source, target)

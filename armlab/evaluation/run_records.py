"""The committed record of one training run: what a results table is made of.

A record holds a run's final metrics, the config and options it ran with,
the commit, the machine, the command, and which test samples the fused
prediction got right (a bit string, for the paired tests). Tables are
regenerated from records alone (``compare_methods.py --report-only
--runs-dir``), so a fresh clone can check every number without the work
dirs, the checkpoints or a single training step.
"""
import json
import os.path as osp
import subprocess
from typing import Dict, List, Optional, Sequence

import numpy as np

from armlab.fileio import write_atomic

#: Bumped when a field changes meaning.
RECORD_VERSION = 1


def encode_correct(correct: Sequence[int]) -> str:
    """0/1 per sample -> hex string (4 samples per character)."""
    bits = np.asarray(correct, dtype=np.uint8)
    if bits.size and not set(np.unique(bits)) <= {0, 1}:
        raise ValueError('correctness must be 0/1 per sample')
    packed = np.packbits(bits)
    return packed.tobytes().hex()


def decode_correct(text: str, num_samples: int) -> np.ndarray:
    """Inverse of :func:`encode_correct`."""
    packed = np.frombuffer(bytes.fromhex(text), dtype=np.uint8)
    bits = np.unpackbits(packed)
    if bits.size < num_samples:
        raise ValueError(f'record holds {bits.size} bits, expected '
                         f'{num_samples}')
    return bits[:num_samples].astype(np.int64)


def git_commit(repo: str) -> Dict[str, object]:
    """HEAD's hash and whether tracked files differ from it."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=repo, capture_output=True,
                              text=True).stdout.strip()
    commit = git('rev-parse', 'HEAD') or 'unknown'
    dirty = bool(git('status', '--porcelain', '--untracked-files=no'))
    return {'commit': commit, 'dirty': dirty}


def record_path(runs_dir: str, preset: Optional[str], config_name: str,
                seed: int) -> str:
    """``<runs_dir>/<preset or default>/<config name>/seed<k>.json``."""
    return osp.join(runs_dir, preset or 'default', config_name,
                    f'seed{seed}.json')


def write_record(path: str, *, config: str, preset: Optional[str], seed: int,
                 cfg_options: List[str], metrics: Dict[str, float],
                 test_correct: Sequence[int], commit: Dict[str, object],
                 machine: str, command: str) -> dict:
    """Write one run's record (atomically) and return it."""
    record = {
        'version': RECORD_VERSION,
        'config': config,
        'preset': preset,
        'seed': int(seed),
        'cfg_options': list(cfg_options),
        **commit,
        'machine': machine,
        'command': command,
        'metrics': {k: float(v) for k, v in sorted(metrics.items())},
        'test_num_samples': int(len(test_correct)),
        'test_correct': encode_correct(test_correct),
    }
    write_atomic((json.dumps(record, indent=1) + '\n').encode(), path)
    return record


def read_record(path: str) -> dict:
    """A record, its correctness decoded to ``test_correct`` (array)."""
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    if record.get('version') != RECORD_VERSION:
        raise ValueError(f'{path}: record version {record.get("version")}, '
                         f'this armlab reads {RECORD_VERSION}')
    record['test_correct'] = decode_correct(record['test_correct'],
                                            record['test_num_samples'])
    return record

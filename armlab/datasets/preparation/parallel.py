"""A resumable, failure-reporting parallel runner for preparation jobs.

Raw downloads are large and never perfectly clean: a run must survive a
corrupt video, be restartable after a crash, and say at the end exactly what
it could not do. So each job names its outputs; a job whose outputs all exist
is skipped (writers rename complete files into place, so existing means
complete); an exception fails that job only and is reported with its input.
"""
import multiprocessing
import os.path as osp
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterable, List, NamedTuple,
                    Sequence, Tuple)

from armlab.utils.threads import limit_blas_threads
from .annotations import write_json_atomic

__all__ = ['Job', 'RunReport', 'run_jobs', 'write_failures']


class Job(NamedTuple):
    """One unit of work.

    Attributes:
        key: Identifier in reports (a sample id, a relative path).
        outputs: Files or folders the job writes; all present = done.
        args: Positional arguments of the job function.
        source: The input named in failure reports.
    """

    key: str
    outputs: Tuple[str, ...]
    args: Tuple[Any, ...]
    source: str = ''


@dataclass
class RunReport:
    """What a run did: results of the jobs that ran, skipped keys, failures.

    ``failures`` holds ``{'stage', 'key', 'source', 'error'}`` dicts.
    """

    stage: str
    results: Dict[str, Any] = field(default_factory=dict)
    skipped: List[str] = field(default_factory=list)
    failures: List[Dict[str, str]] = field(default_factory=list)

    @property
    def failed_keys(self) -> set:
        return {f['key'] for f in self.failures}

    def summary(self) -> str:
        return (f'{self.stage}: {len(self.results)} done, '
                f'{len(self.skipped)} skipped (already complete), '
                f'{len(self.failures)} failed')


def _call(func: Callable, job: Job) -> Tuple[bool, Any]:
    """Run one job; never raise (the error travels back as text)."""
    try:
        return True, func(*job.args)
    except Exception as err:  # one bad input must not stop the run
        last = traceback.extract_tb(err.__traceback__)[-1]
        return False, (f'{type(err).__name__}: {err} '
                       f'(at {osp.basename(last.filename)}:{last.lineno})')


def _context():
    # fork: workers start at once without re-importing armlab and torch;
    # elsewhere the platform default.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context(
        'fork' if 'fork' in methods and sys.platform.startswith('linux')
        else None)


def run_jobs(func: Callable, jobs: Iterable[Job], *, stage: str,
             workers: int = 0, progress: bool = True,
             skip_existing: bool = True) -> RunReport:
    """Run ``func(*job.args)`` for every job, in ``workers`` processes.

    Args:
        func: A picklable (module-level) function that writes the job's
            outputs atomically; its return value lands in
            ``report.results[job.key]``.
        jobs: The jobs; keys must be unique.
        stage: Name used in the progress bar and the reports.
        workers: Worker processes; 0 runs in this process.
        progress: Show a tqdm bar.
        skip_existing: Skip jobs whose outputs all exist.

    Returns:
        A :class:`RunReport`. Failures are collected, never raised.
    """
    from tqdm import tqdm
    jobs = list(jobs)
    keys = [job.key for job in jobs]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})[:5]
        raise ValueError(f'{stage}: duplicate job keys {dup}')
    report = RunReport(stage)
    todo = []
    for job in jobs:
        if skip_existing and job.outputs and all(
                osp.exists(p) for p in job.outputs):
            report.skipped.append(job.key)
        else:
            todo.append(job)

    def record(job: Job, ok: bool, value: Any) -> None:
        if ok:
            report.results[job.key] = value
        else:
            report.failures.append({'stage': stage, 'key': job.key,
                                    'source': job.source, 'error': value})

    bar = tqdm(total=len(todo), desc=stage, unit='file',
               disable=not progress or not todo)
    if workers <= 0 or len(todo) <= 1:
        for job in todo:
            record(job, *_call(func, job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                                 mp_context=_context(),
                                 initializer=limit_blas_threads) as pool:
            futures = {pool.submit(_call, func, job): job for job in todo}
            for future in as_completed(futures):
                record(futures[future], *future.result())
                bar.update()
    bar.close()
    report.failures.sort(key=lambda f: f['key'])
    return report


def write_failures(path: str, reports: Sequence[RunReport]) -> List[dict]:
    """Write every failure of ``reports`` to a JSON file (an empty list when
    all went well, so a stale file from an earlier run never misleads) and
    print one summary line per stage. Returns the failures."""
    failures = [f for report in reports for f in report.failures]
    write_json_atomic(path, failures)
    for report in reports:
        print(report.summary())
    if failures:
        print(f'{len(failures)} failure(s) listed in {path}')
    return failures

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
from concurrent.futures import (FIRST_COMPLETED, ProcessPoolExecutor,
                                as_completed, wait)
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterable, Iterator, List,
                    NamedTuple, Optional, Sequence, Tuple)

from threadpoolctl import threadpool_limits

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


def _context(start_method: Optional[str] = None):
    # fork: workers start at once without re-importing armlab and torch;
    # elsewhere (or when asked, e.g. 'spawn' from a process that runs torch
    # threads) the given or platform default.
    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        start_method = 'fork' if 'fork' in methods and \
            sys.platform.startswith('linux') else None
    return multiprocessing.get_context(start_method)


def run_jobs(func: Callable, jobs: Iterable[Job], *, stage: str,
             workers: int = 0, progress: bool = True,
             skip_existing: bool = True, total: Optional[int] = None,
             start_method: Optional[str] = None) -> RunReport:
    """Run ``func(*job.args)`` for every job, in ``workers`` processes.

    Jobs are taken from ``jobs`` as they are needed (at most two per worker
    in flight), so a generator of jobs that each carry their data (decoded
    audio, an image) never holds all of them in memory.

    Args:
        func: A picklable (module-level) function that writes the job's
            outputs atomically; its return value lands in
            ``report.results[job.key]``.
        jobs: The jobs (a list or an iterator); keys must be unique.
        stage: Name used in the progress bar and the reports.
        workers: Worker processes; 0 runs in this process.
        progress: Show a tqdm bar.
        skip_existing: Skip jobs whose outputs all exist.
        total: Number of jobs, for the progress bar of an iterator.
        start_method: multiprocessing start method of the workers (default:
            fork on Linux).

    Returns:
        A :class:`RunReport`. Failures are collected, never raised.
    """
    from tqdm import tqdm
    if total is None and hasattr(jobs, '__len__'):
        total = len(jobs)
    report = RunReport(stage)
    seen: set = set()

    def todo() -> Iterator[Job]:
        for job in jobs:
            if job.key in seen:
                raise ValueError(f'{stage}: duplicate job key {job.key!r}')
            seen.add(job.key)
            if skip_existing and job.outputs and all(
                    osp.exists(p) for p in job.outputs):
                report.skipped.append(job.key)
                bar.update()
            else:
                yield job

    def record(job: Job, ok: bool, value: Any) -> None:
        if ok:
            report.results[job.key] = value
        else:
            report.failures.append({'stage': stage, 'key': job.key,
                                    'source': job.source, 'error': value})
        bar.update()

    bar = tqdm(total=total, desc=stage, unit='file', disable=not progress)
    if workers <= 0:
        # One BLAS thread, as in the workers: the same files for any number
        # of workers (threaded BLAS sums in another order).
        with threadpool_limits(limits=1, user_api='blas'):
            for job in todo():
                record(job, *_call(func, job))
    else:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=_context(start_method),
                                 initializer=limit_blas_threads) as pool:
            pending: Dict[Any, Job] = {}
            for job in todo():
                pending[pool.submit(_call, func, job)] = job
                while len(pending) >= 2 * workers:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        record(pending.pop(future), *future.result())
            for future in as_completed(pending):
                record(pending[future], *future.result())
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

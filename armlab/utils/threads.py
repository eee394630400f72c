"""Thread limits for numpy's BLAS in data processes."""
from threadpoolctl import threadpool_limits


def limit_blas_threads() -> None:
    """One OpenBLAS thread per process, before data workers start.

    numpy's OpenBLAS starts one spinning thread per core in the main process
    and, inherited through fork, in every dataloader worker. With spectrogram
    and image work in the workers and torch's own threads in the main
    process, these spin against each other: on 2 cores the AV-Digits pipeline
    ran 3-6x slower (benchmarks measured 11 ms against 1.8 ms per sample).
    torch's intra-op threads are not affected.
    """
    threadpool_limits(limits=1, user_api='blas')

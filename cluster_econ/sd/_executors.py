"""Executors: where the chunks of a batch or sweep run (in process, a process pool, or Dask).

Every executor takes a picklable ``shared`` object (the compiled kernel and what every chunk needs),
ships it to each worker once, never inside every task, and evaluates ``fn(shared, task)`` for each
task, yielding ``(index, result)`` as chunks finish. A task that raises is retried once; a second
failure stops the run with a :class:`~cluster_econ.errors.SimulationError` naming the task.

* ``None``: in this process, one task after another.
* ``"processes"``: a local process pool with one process per core; ``shared`` goes to each process
  once, through the pool's initializer. The processes start with one BLAS/OpenMP thread each
  (``OMP_NUM_THREADS=1`` etc.), as Dask's own workers do, so two processes never share a core.
* a ``dask.distributed.Client``: any Dask cluster (LocalCluster, dask-jobqueue, Kubernetes); ``shared``
  is scattered to every worker once (``broadcast=True``).
* ``"dask"``: starts a ``LocalCluster`` with one single-threaded worker per core, closed afterwards.

Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_`` set (``distributed.nanny.pre-spawn-environ``),
which in glibc also freezes the mmap threshold at 128 KiB: every array of a chunk's integration larger
than that is then mapped and unmapped at every time step, and a chunk takes two to three times as long
(measured on regional_cluster: system time 0.7 s -> 6.6 s for 250 scenario pairs). On such a worker,
the first task sets the mmap threshold back to 32 MiB, the ceiling of glibc's own dynamic threshold.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import SimulationError, SpecError

__all__ = ["EXECUTORS", "run_tasks", "worker_count"]

logger = logging.getLogger(__name__)

EXECUTORS = (None, "processes", "dask")

_SHARED: dict[str, Any] = {}

#: set to 1 in the environment the pool's processes start with: one core per process, no oversubscription
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """Processes started inside inherit one thread per library; this process's environment is restored after."""
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update({k: "1" for k in THREAD_VARIABLES})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _install(token: str, shared: Any) -> None:  # runs once in every pool process
    _SHARED[token] = shared


def _call(token: str, fn: Callable[[Any, Any], Any], task: Any) -> Any:
    return fn(_SHARED[token], task)


_MALLOC_TUNED: list[bool] = []
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _tune_malloc() -> None:
    """Once per process: with MALLOC_TRIM_THRESHOLD_ set (and no mmap threshold), raise the mmap threshold."""
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED.append(True)
    if not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" not in os.environ \
            or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        logger.debug("mallopt is not available; the mmap threshold is left as it is")


def _on_worker(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    _tune_malloc()
    return fn(shared, task)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _is_client(executor: Any) -> bool:
    return type(executor).__name__ == "Client" and hasattr(executor, "scatter") and hasattr(executor, "submit")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise SpecError("executor='dask' needs the distributed package: pip install 'cluster-econ[dask]'.") from err
    return distributed


def check_executor(executor: Any) -> None:
    """Raise :class:`SpecError` unless ``executor`` is None, "processes", "dask" or a Dask Client."""
    if (executor in EXECUTORS and not isinstance(executor, bool)) or _is_client(executor):
        if executor == "dask":
            _distributed()  # says how to install it, before any work is done
        return
    raise SpecError(f"executor={executor!r} is not valid; give None, 'processes', 'dask' or a "
                    "dask.distributed.Client.")


def worker_count(executor: Any) -> int:
    """How many tasks the executor runs at once."""
    if executor is None:
        return 1
    if _is_client(executor):
        return max(1, sum(w.get("nthreads", 1) for w in executor.scheduler_info()["workers"].values()))
    return _cores()


def _failed(label: str, err: BaseException) -> SimulationError:
    return SimulationError(f"{label} failed twice ({type(err).__name__}: {err}); the chunks finished before "
                           "it are kept (in the store, if one was given).")


def run_tasks(fn: Callable[[Any, Any], Any], shared: Any, tasks: Sequence[Any], *, executor: Any = None,
              labels: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
    """Evaluate ``fn(shared, task)`` for every task; yield ``(index, result)`` as each finishes.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by reference for other processes).
    shared : object
        Sent to every worker once.
    tasks : sequence
        Small, picklable task descriptions (the rows of one chunk).
    executor : None, "processes", "dask" or dask.distributed.Client
    labels : sequence of str, optional
        How to name each task in an error ("chunk 3 (first scenario 300)").
    """
    check_executor(executor)
    names = list(labels) if labels is not None else [f"task {i}" for i in range(len(tasks))]
    if not tasks:
        return
    if executor is None:
        for i, task in enumerate(tasks):
            try:
                result = fn(shared, task)
            except Exception as err:  # retried once
                logger.warning("%s raised %s; retrying once", names[i], err)
                try:
                    result = fn(shared, task)
                except Exception as again:
                    raise _failed(names[i], again) from again
            yield i, result
        return
    if executor == "processes":
        yield from _processes(fn, shared, tasks, names)
        return
    if executor == "dask":
        distributed = _distributed()
        with contextlib.ExitStack() as stack:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=_cores(), threads_per_worker=1, processes=True, dashboard_address=None))
            client = stack.enter_context(distributed.Client(cluster))
            yield from _dask(client, fn, shared, tasks, names)
        return
    yield from _dask(executor, fn, shared, tasks, names)


def _processes(fn: Callable, shared: Any, tasks: Sequence[Any], names: list[str]) -> Iterator[tuple[int, Any]]:
    import multiprocessing

    token = uuid.uuid4().hex
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads (BLAS, tqdm)
    with cf.ProcessPoolExecutor(max_workers=min(_cores(), len(tasks)), mp_context=context, initializer=_install,
                                initargs=(token, shared)) as pool:
        with _single_threaded():  # the pool starts its processes as tasks are submitted
            futures = {pool.submit(_call, token, fn, task): (i, 0) for i, task in enumerate(tasks)}
        while futures:
            done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
            for future in done:
                i, tries = futures.pop(future)
                err = future.exception()
                if err is None:
                    yield i, future.result()
                elif tries == 0 and not isinstance(err, cf.process.BrokenProcessPool):
                    logger.warning("%s raised %s; retrying once", names[i], err)
                    futures[pool.submit(_call, token, fn, tasks[i])] = (i, 1)
                else:
                    for other in futures:
                        other.cancel()
                    raise _failed(names[i], err) from err


def _dask(client: Any, fn: Callable, shared: Any, tasks: Sequence[Any], names: list[str]) -> Iterator[tuple[int, Any]]:
    distributed = _distributed()
    handle = client.scatter(shared, broadcast=True, hash=False)
    futures = {client.submit(_on_worker, fn, handle, task, pure=False): (i, 0) for i, task in enumerate(tasks)}
    pending = distributed.as_completed(list(futures))
    try:
        for future in pending:
            i, tries = futures.pop(future)
            if future.status == "finished":
                yield i, future.result()
                continue
            err = future.exception()
            if tries == 0:
                logger.warning("%s raised %s; retrying once", names[i], err)
                retry = client.submit(_on_worker, fn, handle, tasks[i], pure=False)
                futures[retry] = (i, 1)
                pending.add(retry)
            else:
                raise _failed(names[i], err) from err
    finally:
        for future in futures:
            future.cancel()
        with contextlib.suppress(Exception):
            client.cancel(handle)

"""Several sequential optimisations advanced in lockstep, so their model evaluations form one batch.

``scipy.optimize.least_squares`` asks for one point (and its Jacobian) at a time. Each optimisation
runs in its own thread; whenever every live optimisation is waiting for an evaluation, the requested
points of all of them are integrated in one batch by the calling thread and handed back. The rounds
are deterministic (every round waits for every live optimisation), so the same inputs give the same
batches and the same bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["run_lockstep"]

T = TypeVar("T")
Request = Callable[[np.ndarray], np.ndarray]


def run_lockstep(tasks: Sequence[Callable[[Request], T]], evaluate: Callable[[np.ndarray], np.ndarray], *,
                 progress: bool = False, desc: str = "") -> list[T]:
    """Run ``tasks`` (each called with a ``request(points) -> rows`` function), batching their requests.

    ``evaluate`` maps stacked points ``(m, p)`` to rows ``(m, ...)``. A single task runs in the calling
    thread. An exception in a task is raised here after every task has ended.
    """
    if len(tasks) == 1:
        if not progress:
            return [tasks[0](evaluate)]
        from tqdm.auto import tqdm

        with tqdm(desc=desc or "calibration batches", unit="batch") as single:
            def counted(points: np.ndarray) -> np.ndarray:
                single.update(1)
                return evaluate(points)
            return [tasks[0](counted)]
    cond = threading.Condition()
    pending: dict[int, np.ndarray] = {}
    answers: dict[int, Any] = {}
    alive = set(range(len(tasks)))
    stopped: list[BaseException] = []  # set when the calling thread stops early (an error, Ctrl-C)
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException | None] = [None] * len(tasks)

    def request_for(i: int) -> Request:
        def request(points: np.ndarray) -> np.ndarray:
            with cond:
                pending[i] = np.atleast_2d(np.asarray(points, dtype=float))
                cond.notify_all()
                while i not in answers and not stopped:
                    cond.wait()
                if i not in answers:
                    raise stopped[0]
                answer = answers.pop(i)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return request

    def worker(i: int) -> None:
        try:
            results[i] = tasks[i](request_for(i))
        except BaseException as err:  # re-raised by the caller once every task has ended
            errors[i] = err
        finally:
            with cond:
                alive.discard(i)
                cond.notify_all()

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=desc or "calibration rounds", unit="batch")
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    try:
        while True:
            with cond:
                while alive and not set(alive) <= set(pending):
                    cond.wait()
                if not alive:
                    break
                order = sorted(pending)
                batch = [pending.pop(i) for i in order]
            sizes = [len(b) for b in batch]
            try:
                rows: Any = evaluate(np.concatenate(batch, axis=0))
                split: list[Any] = list(np.split(rows, np.cumsum(sizes)[:-1], axis=0))
            except BaseException as failure:  # handed to every waiting task, which then ends
                split = [failure] * len(order)
            with cond:
                answers.update(zip(order, split, strict=True))
                cond.notify_all()
            if bar is not None:
                bar.update(1)
    except BaseException as err:  # release every waiting task before waiting for them
        with cond:
            stopped.append(RuntimeError(f"stopped by {type(err).__name__}"))
            cond.notify_all()
        raise
    finally:
        if bar is not None:
            bar.close()
        for thread in threads:
            thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results

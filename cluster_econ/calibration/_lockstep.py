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
from typing import Any, Generic, TypeVar

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
        return [_run_single(tasks[0], evaluate, progress=progress, desc=desc)]
    return _Lockstep(tasks).run(evaluate, progress=progress, desc=desc)


def _run_single(task: Callable[[Request], T], evaluate: Callable[[np.ndarray], np.ndarray], *,
                progress: bool, desc: str) -> T:
    """One task, in the calling thread: its requests are evaluated as they come (counted by the bar)."""
    if not progress:
        return task(evaluate)
    from tqdm.auto import tqdm

    with tqdm(desc=desc or "calibration batches", unit="batch") as single:
        def counted(points: np.ndarray) -> np.ndarray:
            single.update(1)
            return evaluate(points)
        return task(counted)


def _evaluate_batch(evaluate: Callable[[np.ndarray], np.ndarray], batch: list[np.ndarray]) -> list[Any]:
    """The rows of every request of one round, or the failure of the evaluation once per request."""
    sizes = [len(b) for b in batch]
    try:
        rows: Any = evaluate(np.concatenate(batch, axis=0))
        return list(np.split(rows, np.cumsum(sizes)[:-1], axis=0))
    except BaseException as failure:  # handed to every waiting task, which then ends
        return [failure] * len(batch)


class _Lockstep(Generic[T]):
    """Several tasks in their own threads; the calling thread answers their requests in rounds.

    All the shared state (``pending``, ``answers``, ``alive``, ``stopped``) is guarded by ``cond``.
    """

    def __init__(self, tasks: Sequence[Callable[[Request], T]]) -> None:
        self.tasks = tasks
        self.cond = threading.Condition()
        self.pending: dict[int, np.ndarray] = {}
        self.answers: dict[int, Any] = {}
        self.alive = set(range(len(tasks)))
        self.stopped: list[BaseException] = []  # set when the calling thread stops early (an error, Ctrl-C)
        self.results: list[Any] = [None] * len(tasks)
        self.errors: list[BaseException | None] = [None] * len(tasks)

    def request_for(self, i: int) -> Request:
        """The ``request`` function of task ``i``: post its points, wait for the round's answer."""
        def request(points: np.ndarray) -> np.ndarray:
            with self.cond:
                self.pending[i] = np.atleast_2d(np.asarray(points, dtype=float))
                self.cond.notify_all()
                while i not in self.answers and not self.stopped:
                    self.cond.wait()
                if i not in self.answers:
                    raise self.stopped[0]
                answer = self.answers.pop(i)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return request

    def worker(self, i: int) -> None:
        try:
            self.results[i] = self.tasks[i](self.request_for(i))
        except BaseException as err:  # re-raised by the caller once every task has ended
            self.errors[i] = err
        finally:
            with self.cond:
                self.alive.discard(i)
                self.cond.notify_all()

    def next_round(self) -> tuple[list[int], list[np.ndarray]] | None:
        """Wait until every live task has a request; take them (in task order). None once all have ended."""
        with self.cond:
            while self.alive and not set(self.alive) <= set(self.pending):
                self.cond.wait()
            if not self.alive:
                return None
            order = sorted(self.pending)
            return order, [self.pending.pop(i) for i in order]

    def answer(self, order: list[int], split: list[Any]) -> None:
        with self.cond:
            self.answers.update(zip(order, split, strict=True))
            self.cond.notify_all()

    def stop(self, err: BaseException) -> None:
        """Release every waiting task (its request raises) after the calling thread stopped with ``err``."""
        with self.cond:
            self.stopped.append(RuntimeError(f"stopped by {type(err).__name__}"))
            self.cond.notify_all()

    def serve(self, evaluate: Callable[[np.ndarray], np.ndarray], bar: Any) -> None:
        """Answer round after round until every task has ended."""
        while (batch := self.next_round()) is not None:
            order, points = batch
            self.answer(order, _evaluate_batch(evaluate, points))
            if bar is not None:
                bar.update(1)

    def run(self, evaluate: Callable[[np.ndarray], np.ndarray], *, progress: bool, desc: str) -> list[T]:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc=desc or "calibration rounds", unit="batch")
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(len(self.tasks))]
        for thread in threads:
            thread.start()
        try:
            self.serve(evaluate, bar)
        except BaseException as err:  # release every waiting task before waiting for them
            self.stop(err)
            raise
        finally:
            if bar is not None:
                bar.close()
            for thread in threads:
                thread.join()
        for error in self.errors:
            if error is not None:
                raise error
        return self.results

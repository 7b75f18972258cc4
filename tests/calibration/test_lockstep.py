"""Lockstep runs: the requests of several sequential tasks become one batch per round."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_econ.calibration._lockstep import run_lockstep


def _task(n_rounds: int, width: int):
    def task(request):
        total = 0.0
        for k in range(n_rounds):
            rows = request(np.full((width, 1), float(k)))
            assert rows.shape == (width, 1)
            total += float(rows.sum())
        return total
    return task


def test_requests_are_batched_per_round_and_answered_in_order():
    batches = []

    def evaluate(points):
        batches.append(len(points))
        return points * 2

    results = run_lockstep([_task(3, 2), _task(1, 3), _task(2, 1)], evaluate)
    assert results == [2 * 2 * (0 + 1 + 2), 0.0, 2 * 1 * (0 + 1)]
    assert batches == [6, 3, 2]  # every live task in every round; finished tasks drop out


def test_an_error_in_one_task_is_raised_after_the_others_end():
    def failing(request):
        request(np.zeros((1, 1)))
        raise ValueError("task 1 failed")

    with pytest.raises(ValueError, match="task 1 failed"):
        run_lockstep([_task(3, 1), failing], lambda p: p)


def test_an_error_of_the_evaluation_reaches_every_task():
    def evaluate(points):
        raise FloatingPointError("kernel failed")

    with pytest.raises(FloatingPointError, match="kernel failed"):
        run_lockstep([_task(2, 1), _task(2, 1)], evaluate)

"""RunSoon: a cache's refresh run off the caller's thread, one at a time."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from paperroute.soon import RunSoon


def test_one_run_at_a_time_then_again_after() -> None:
    soon = RunSoon("a test job")
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def job() -> None:
        runs.append(1)
        started.set()
        release.wait(5)

    with ThreadPoolExecutor(2) as executor:
        soon.ask(executor, job)
        assert started.wait(5)
        for _ in range(5):
            soon.ask(executor, job)  # queued or running: nothing more
        release.set()
    assert runs == [1]
    with ThreadPoolExecutor(1) as executor:
        soon.ask(executor, job)
    assert runs == [1, 1]


def test_a_failure_is_logged_and_the_next_ask_runs(caplog: pytest.LogCaptureFixture) -> None:
    soon = RunSoon("counting things")
    calls: list[str] = []

    def fails() -> None:
        calls.append("failed")
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR), ThreadPoolExecutor(1) as executor:
        soon.ask(executor, fails)
    assert "counting things failed" in caplog.text
    with ThreadPoolExecutor(1) as executor:
        soon.ask(executor, lambda: calls.append("ran"))
    assert calls == ["failed", "ran"]


def test_a_shut_down_executor_runs_nothing_and_leaves_it_free() -> None:
    soon = RunSoon("a test job")
    closed = ThreadPoolExecutor(1)
    closed.shutdown()
    ran: list[int] = []
    soon.ask(closed, lambda: ran.append(1))
    with ThreadPoolExecutor(1) as executor:
        soon.ask(executor, lambda: ran.append(2))
    assert ran == [2]

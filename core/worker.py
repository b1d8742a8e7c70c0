"""The background worker: one loop that runs the jobs every feature registers.

A feature registers its periodic jobs (name, interval, function) with ``register_job`` and, for the click
stream, a blocking source with ``register_stream``. The loop gives each job its turn; a job that fails is
logged and rolled back, and the others go on, so a postback or ledger problem never stops click storage.
A job whose round may be slow (postbacks) asks for a thread of its own, so it never delays the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flask import Flask, current_app

from core.db import db

log = logging.getLogger(__name__)
IDLE_SLEEP_SECONDS = 1.0
JOBS_KEY = "handoff.worker.jobs"
STREAM_KEY = "handoff.worker.stream"


@dataclass(frozen=True)
class Job:
    """One periodic piece of work: ``run`` does a round and says how many items it handled."""

    name: str
    run: Callable[[], int]
    interval_seconds: float
    report: str  # how the summary counts it, with {} for the number: "attempted {} postbacks"
    # False: a busy round runs again at once, so a backlog drains without waiting the interval.
    # True: the interval passes after every round, busy or not (scans that are cheap only when rare).
    paced: bool = False
    # True: a long-running worker gives the job a thread of its own beside the loop, so a slow round (a
    # partner's postback waiting out its deadline) never holds the click stream or the other jobs.
    # A burst run keeps it in the loop: it drains and exits like every other job.
    own_thread: bool = False


class Stream(Protocol):
    """A blocking source the loop waits on between jobs (the click stream)."""

    stored: int
    report: str

    def step(self) -> int: ...

    def drained(self) -> bool: ...


def register_job(app: Flask, job: Job) -> None:
    app.extensions.setdefault(JOBS_KEY, []).append(job)


StreamFactory = Callable[[int | None], "Stream | None"]


def register_stream(app: Flask, factory: StreamFactory) -> None:
    """``factory(batch_size)`` is called when a worker starts; None means this node has no stream (no Redis)."""
    app.extensions[STREAM_KEY] = factory


@dataclass
class WorkSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)


class BackgroundWorker:
    def __init__(self, stream: Stream | None, jobs: list[Job]):
        self.stream = stream
        self.jobs = jobs
        self.summary = WorkSummary({job.name: 0 for job in jobs})
        self._next_round = {job.name: 0.0 for job in jobs}
        self._threaded: set[str] = set()

    @classmethod
    def for_app(cls, app: Flask | None = None, *, batch_size: int | None = None) -> BackgroundWorker:
        app = app or current_app
        factory: StreamFactory | None = app.extensions.get(STREAM_KEY)
        return cls(factory(batch_size) if factory else None, list(app.extensions.get(JOBS_KEY, [])))

    def describe(self) -> str:
        parts = (["click stream"] if self.stream else []) + [job.name for job in self.jobs]
        return ", ".join(parts)

    def step(self) -> int:
        handled = self.stream.step() if self.stream else 0
        return handled + sum(self._run_if_due(job) for job in self.jobs if job.name not in self._threaded)

    def _run_if_due(self, job: Job) -> int:
        if time.monotonic() < self._next_round[job.name]:
            return 0
        try:
            handled = job.run()
        except Exception:
            # The next round retries; every job is idempotent, and the others must go on meanwhile.
            log.exception("%s round failed", job.name)
            db.session.rollback()
            handled = 0
        if job.paced or handled == 0:
            self._next_round[job.name] = time.monotonic() + job.interval_seconds
        self.summary.counts[job.name] += handled
        return handled

    def run(self, *, burst: bool = False, should_stop: Callable[[], bool] = lambda: False) -> WorkSummary:
        stopping = threading.Event()
        threads = [] if burst else [self._start_thread(job, stopping) for job in self.jobs if job.own_thread]
        try:
            while not should_stop():
                if self.step():
                    continue
                if burst and (self.stream is None or self.stream.drained()):
                    break
                if self.stream is None:
                    time.sleep(IDLE_SLEEP_SECONDS)  # with a stream, its blocking read already waits
        finally:
            stopping.set()
            for thread in threads:
                thread.join()  # the round in hand finishes; its job bounds how long that takes
            self._threaded.clear()
        return self.summary

    def _start_thread(self, job: Job, stopping: threading.Event) -> threading.Thread:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._threaded.add(job.name)
        thread = threading.Thread(target=self._run_alone, args=(app, job, stopping), name=f"job-{job.name}")
        thread.start()
        return thread

    def _run_alone(self, app: Flask, job: Job, stopping: threading.Event) -> None:
        # Its own app context is its own database session: nothing it holds is shared with the loop.
        with app.app_context():
            while not stopping.is_set():
                self._run_if_due(job)
                stopping.wait(max(0.0, self._next_round[job.name] - time.monotonic()))

    def report(self) -> str:
        lines = [self.stream.report.format(self.stream.stored)] if self.stream else []
        return ", ".join(lines + [job.report.format(self.summary[job.name]) for job in self.jobs])

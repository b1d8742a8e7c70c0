"""The worker loop: a job on a thread of its own never holds the click stream."""

from __future__ import annotations

import threading

from core.worker import BackgroundWorker, Job


class CountingStream:
    """A click stream that counts the steps it is given while the slow job is in a round."""

    stored = 0
    report = "stored {} clicks"

    def __init__(self, job_started: threading.Event, release: threading.Event):
        self.job_started, self.release = job_started, release
        self.steps_during_round = 0

    def step(self) -> int:
        if self.job_started.is_set() and not self.release.is_set():
            self.steps_during_round += 1
            if self.steps_during_round == 3:
                self.release.set()  # the stream went on while the round was held: let the round end
        self.release.wait(0.01)  # stands in for the stream's blocking read
        return 0

    def drained(self) -> bool:
        return True


def test_a_job_on_its_own_thread_never_holds_the_stream(app):
    job_started, release, stop = threading.Event(), threading.Event(), threading.Event()
    rounds = []

    def slow_round() -> int:
        job_started.set()
        rounds.append(release.wait(10))  # a partner dripping its answer until the deadline
        stop.set()
        return 0

    stream = CountingStream(job_started, release)
    worker = BackgroundWorker(stream, [Job("slow", slow_round, 60, report="{}", own_thread=True)])

    def run_worker():
        with app.app_context():
            worker.run(should_stop=stop.is_set)

    runner = threading.Thread(target=run_worker)
    runner.start()
    runner.join()

    assert rounds == [True]  # released by the stream, not by its own timeout
    assert stream.steps_during_round == 3


def test_a_burst_run_keeps_every_job_in_the_loop(app):
    ran_on = []

    def round_() -> int:
        ran_on.append(threading.current_thread())
        return 0

    BackgroundWorker(None, [Job("own", round_, 60, report="{}", own_thread=True)]).run(burst=True)

    assert ran_on == [threading.current_thread()]

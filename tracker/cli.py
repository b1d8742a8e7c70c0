"""Operator commands for the tracker: the demo program and the click stream worker."""
from __future__ import annotations

import json
import signal

import click
from flask import current_app

from tracker.services import tracker


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print keys, link URLs and codes as one JSON object.")
def demo_command(as_json: bool) -> None:
    """Create the demo program (idempotent) and print fresh keys and its links."""
    from tracker.demo import create_demo, describe_demo

    summary = create_demo()
    click.echo(json.dumps(summary, indent=2) if as_json else describe_demo(summary))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once there is nothing left to do.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None)
def worker_command(burst: bool, batch_size: int | None) -> None:
    """Store clicks from the stream, deliver partner postbacks and approve commissions that are due."""
    from tracker.worker import BackgroundWorker

    services = tracker()
    settings = services.settings
    stream = None
    if services.redis is not None:
        from tracker.pipeline import ClickStreamWorker
        stream = ClickStreamWorker(
            services.redis, settings.click_stream_key, settings.redis_prefix, services.refcode_key,
            batch_size=batch_size or settings.worker_batch_size, claim_idle_ms=settings.worker_claim_idle_ms)
    stopping = []
    # Finish the batch in hand on SIGTERM/SIGINT; unacknowledged entries would be reclaimed anyway.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    current_app.logger.info("worker started: %s", "click stream, postbacks, approvals" if stream
                            else "postbacks, approvals")
    summary = BackgroundWorker(stream).run(burst=burst, should_stop=lambda: bool(stopping))
    click.echo(f"stored {summary.clicks} new clicks, attempted {summary.postbacks} postbacks, "
               f"approved {summary.approvals} commissions")


def init_app(app) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)

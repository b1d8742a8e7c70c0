"""``flask --app app demo``: the demo program a newcomer sees on first start."""

from __future__ import annotations

import json

import click

from tracker.program.demo import create_demo, describe_demo


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print keys, link URLs and codes as one JSON object.")
def demo_command(as_json: bool) -> None:
    """Create the demo program (idempotent) and print fresh keys and its links."""
    summary = create_demo()
    click.echo(json.dumps(summary, indent=2) if as_json else describe_demo(summary))

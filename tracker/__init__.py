"""Links, clicks, tokens, reference codes, and the click stream."""
from __future__ import annotations

from tracker.services import TrackerServices


def init_app(app, settings, redis) -> None:
    from tracker import api_links, api_program, api_stats, cli, pages, views

    app.extensions["handoff.tracker"] = TrackerServices.build(settings, redis)
    for blueprint in (views.bp, pages.bp, api_program.bp, api_links.bp, api_stats.bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)

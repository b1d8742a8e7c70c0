"""Links, clicks, tokens, reference codes, and the click stream."""
from __future__ import annotations

from tracker.services import TrackerServices


def init_app(app, settings, redis) -> None:
    from tracker import (
        api_conversions,
        api_deals,
        api_links,
        api_postbacks,
        api_program,
        api_stats,
        cli,
        pages,
        public,
        views,
    )

    app.extensions["handoff.tracker"] = TrackerServices.build(settings, redis)
    for blueprint in (views.bp, public.bp, pages.bp, api_program.bp, api_links.bp, api_stats.bp,
                      api_conversions.bp, api_deals.bp, api_postbacks.bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)

"""Tracking: the program (advertisers, offers, partners, links), banners, clicks, attribution, postbacks, stats."""

from __future__ import annotations

from core.worker import Job, register_job, register_stream
from tracker.services import TrackerServices, tracker

# Postbacks fall due at most once a second; polling for them between every click batch would cost the
# stream a query per batch.
POSTBACK_INTERVAL_SECONDS = 1.0
POSTBACKS_PER_ROUND = 100


def init_app(app, settings, redis) -> None:
    from tracker.attribution import api as attribution_api
    from tracker.attribution import pixel
    from tracker.clicks import redirect
    from tracker.creatives import api as creatives_api
    from tracker.creatives import files as banner_files
    from tracker.postbacks import api as postbacks_api
    from tracker.postbacks.delivery import deliver_due
    from tracker.program import api as program_api
    from tracker.program import pages
    from tracker.program.cli import demo_command
    from tracker.stats import api as stats_api

    app.extensions["handoff.tracker"] = TrackerServices.build(settings, redis)
    for blueprint in (
        redirect.bp,
        pixel.bp,
        pages.bp,
        program_api.bp,
        stats_api.bp,
        attribution_api.bp,
        postbacks_api.bp,
        creatives_api.bp,
        banner_files.bp,
    ):
        app.register_blueprint(blueprint)
    from tracker.applications import pages as application_pages
    from tracker.attribution import deal_pages
    from tracker.attribution import pages as conversion_pages
    from tracker.creatives import pages as banner_pages
    from tracker.creatives import upload_pages
    from tracker.postbacks import pages as postback_pages
    from tracker.program import admin_pages, link_pages, offer_pages
    from tracker.stats import pages as stats_pages

    for portal_pages in (
        stats_pages,
        link_pages,
        banner_pages,
        postback_pages,
        deal_pages,
        offer_pages,
        conversion_pages,
        upload_pages,
        admin_pages,
        application_pages,
    ):
        portal_pages.register(app)
    app.cli.add_command(demo_command)
    register_stream(app, click_stream)
    register_job(
        app,
        Job(
            "postbacks",
            lambda: deliver_due(limit=POSTBACKS_PER_ROUND),
            POSTBACK_INTERVAL_SECONDS,
            report="attempted {} postbacks",
            # A round may wait out a slow partner's deadline; the click stream must not wait with it.
            own_thread=True,
        ),
    )


def click_stream(batch_size: int | None):
    """The click stream reader of this node, or None when clicks go straight to the database (no Redis)."""
    from tracker.clicks.stream import ClickStreamWorker

    services = tracker()
    if services.redis is None:
        return None
    settings = services.settings
    return ClickStreamWorker(
        services.redis,
        settings.click_stream_key,
        settings.redis_prefix,
        services.refcode_key,
        batch_size=batch_size or settings.worker_batch_size,
        claim_idle_ms=settings.worker_claim_idle_ms,
    )

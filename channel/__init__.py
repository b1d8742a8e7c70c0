"""The channel program: a vendor's product catalogue, partners' sell-out, bonus points with a fund, rewards, tiers.

It builds on tracker's partners and payouts' patterns and imports them; neither ever imports channel.
"""

from __future__ import annotations

from flask import Flask

from core.worker import Job, register_job

# Return windows are days and expiry months long: a release within a minute of its window ending is
# prompt, and an expiry scan every ten minutes posts an expiry well within its day.
POINTS_RELEASE_INTERVAL_SECONDS = 60.0
POINTS_EXPIRY_INTERVAL_SECONDS = 600.0


def init_app(app: Flask) -> None:
    from channel import cli, demo
    from channel.catalog import api as catalog_api
    from channel.catalog import pages as catalog_pages
    from channel.points import api as points_api
    from channel.points import pages as points_pages
    from channel.points.ledger import expire_due, release_due
    from channel.sellout import api as sellout_api
    from channel.sellout import pages as sellout_pages

    for blueprint in (catalog_api.bp, points_api.bp, sellout_api.bp):
        app.register_blueprint(blueprint)
    for portal_pages in (catalog_pages, points_pages, sellout_pages):
        portal_pages.register(app)
    cli.init_app(app)
    demo.connect()
    register_job(
        app,
        Job(
            "points_release",
            release_due,
            POINTS_RELEASE_INTERVAL_SECONDS,
            report="released {} points accruals",
            paced=True,
        ),
    )
    register_job(
        app,
        Job("points_expiry", expire_due, POINTS_EXPIRY_INTERVAL_SECONDS, report="expired {} points lots", paced=True),
    )

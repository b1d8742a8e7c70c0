"""Payouts: commission plans, the ledger, tax, payout batches and their exports."""

from __future__ import annotations

from core.worker import Job, register_job

# Hold periods are days long: approving within a minute of one ending is prompt enough, and one scan a
# minute takes nothing noticeable from the click stream.
APPROVAL_INTERVAL_SECONDS = 60.0


def init_app(app) -> None:
    from payouts import cli, demo
    from payouts.batches import api as batches_api
    from payouts.ledger import api as ledger_api
    from payouts.ledger import receivers
    from payouts.ledger.entries import approve_due
    from payouts.tax import api as tax_api
    from payouts.tax.engine.presets import use_regime_source
    from payouts.tax.regime_store import stored_regimes

    use_regime_source(stored_regimes)
    receivers.connect()
    demo.connect()
    for blueprint in (ledger_api.bp, tax_api.bp, batches_api.bp):
        app.register_blueprint(blueprint)
    register_job(
        app, Job("approvals", approve_due, APPROVAL_INTERVAL_SECONDS, report="approved {} commissions", paced=True)
    )
    cli.init_app(app)
    from payouts.batches import pages as batch_pages
    from payouts.commissions import pages as plan_pages
    from payouts.exports import pages as statement_pages
    from payouts.ledger import pages as commission_pages
    from payouts.tax import pages as tax_pages

    for portal_pages in (commission_pages, statement_pages, tax_pages, batch_pages, plan_pages):
        portal_pages.register(app)

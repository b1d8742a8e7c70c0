"""Commission rules, the ledger, tax, payout batches and their exports."""
from __future__ import annotations


def init_app(app) -> None:
    from payouts import api_batches, api_ledger, api_tax, cli

    for blueprint in (api_ledger.bp, api_tax.bp, api_batches.bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)

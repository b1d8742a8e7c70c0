"""Commission rules, the ledger, tax, payout batches and their exports."""
from __future__ import annotations


def init_app(app) -> None:
    from payouts import api_batches, api_ledger, api_tax, cli
    from payouts.regime_store import stored_regimes
    from payouts.tax_presets import use_regime_source

    use_regime_source(stored_regimes)
    for blueprint in (api_ledger.bp, api_tax.bp, api_batches.bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)

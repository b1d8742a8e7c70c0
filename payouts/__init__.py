"""Commission rules, the ledger, tax, payout batches and their exports."""

"""Payout batches: built from the ledger with tax per partner, held lines with reasons, approval, payment."""

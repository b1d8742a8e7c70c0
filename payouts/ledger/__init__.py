"""The append-only commission ledger: accrual, approval after the hold, reversal, clawback, adjustments,
balances derived in SQL, and the receivers that tie it to attribution's signals."""

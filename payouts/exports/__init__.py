"""A payout batch as files for finance: CSV and XLSX, SEPA pain.001, an accounting journal, statements."""

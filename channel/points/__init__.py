"""Bonus points: the append-only ledger per partner company, and the bonus fund it draws on."""

"""One payout batch build per currency at a time, decided by the database.

Two builds at once (two finance users, the CLI beside the API) would both read the same open amounts;
the claim's unique constraint lets only one pay each, and the other used to rebuild from what was left:
a second batch paying nothing, or next to nothing. Instead the build takes a transaction-scoped advisory
lock keyed on its currency (and schema) before it reads anything, and a build that finds it taken is refused at once
(the caller answers 409). The lock ends with the build's transaction, committed or rolled back.

SQLite has one writer at a time, which serialises builds already; there it always succeeds.
"""

from __future__ import annotations

from sqlalchemy import text

from core.db import db

# First half of the two-integer advisory key. Advisory locks belong to the whole database, so the key
# names the schema too: installations (or test runs) sharing one database in separate schemas do not
# block each other's builds. A hash collision could only refuse a build needlessly, as if one were running.
NAMESPACE_SQL = "hashtext('payout batch build in ' || current_schema())"


def currency_key(currency: str) -> int:
    """The currency's three ASCII letters as one integer: distinct per code, no hashing to collide."""
    return int.from_bytes(currency.encode("ascii"), "big")


def try_lock_builds(currency: str) -> bool:
    """Hold the currency's build lock until the transaction ends; False when another build holds it."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    statement = text(f"SELECT pg_try_advisory_xact_lock({NAMESPACE_SQL}, CAST(:key AS integer))")
    return bool(db.session.scalar(statement, {"key": currency_key(currency)}))

"""The SQLAlchemy extension, its declarative base, and the small helpers every model shares."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

# Named constraints keep Alembic revisions identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def check_in(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK constraint that keeps ``column`` to one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit without a reload: views answer with what they just wrote, and a
# request is short enough that nothing else changes them meanwhile.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# Models subclass ``Model``: at run time Flask-SQLAlchemy's ``db.Model`` (it adds ``query`` and the table
# name rules); for the type checker, the declarative base it is built on, whose mapping it understands.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


# A plain session, or Flask-SQLAlchemy's request-scoped ``db.session`` that stands in for one.
DbSession = Session | scoped_session[Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored as naive UTC and always come back timezone-aware.

    SQLite has no time zones; storing naive UTC everywhere keeps comparisons identical on both databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers and one writer work at once across gunicorn workers; FKs are off by default."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def dialect_insert(model: Any, session: DbSession | None = None) -> Any:
    """An INSERT for ``model`` in the session's dialect, so ``on_conflict_do_nothing`` is available.

    Handoff runs on PostgreSQL and SQLite; both speak ``INSERT ... ON CONFLICT DO NOTHING``.
    """
    dialect = (session or db.session).get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"Handoff supports PostgreSQL and SQLite, not {dialect}")


T = TypeVar("T")
log = logging.getLogger(__name__)
# PostgreSQL's serialization_failure and deadlock_detected: the transaction lost a race and was rolled
# back whole; the same work run again is right.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
TRANSACTION_ATTEMPTS = 4


def lost_a_race(error: BaseException) -> bool:
    """Whether the database rolled the transaction back only because of another one (run it again)."""
    if not isinstance(error, DBAPIError):
        return False
    # psycopg 3 names it ``sqlstate``, psycopg2 ``pgcode``.
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES


def retry_transaction(work: Callable[[], T], attempts: int = TRANSACTION_ATTEMPTS) -> T:
    """Run ``work``, a whole transaction that commits itself, again after a deadlock or serialisation failure.

    The jitter keeps the transactions that just collided from colliding again in step.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == attempts or not lost_a_race(error):
                raise
            db.session.rollback()
            log.warning("transaction lost a race (%s); attempt %s of %s", type(error.orig).__name__, attempt, attempts)
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")

"""retry_transaction: a transaction PostgreSQL ended as a deadlock victim or serialisation failure runs again."""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from core.db import TRANSACTION_ATTEMPTS, lost_a_race, retry_transaction


def failing(error: Exception, times: int):
    calls = []

    def work():
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "stored"

    return work, calls


def deadlock() -> OperationalError:
    return OperationalError("INSERT ...", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def serialization_failure() -> OperationalError:
    return OperationalError("UPDATE ...", {}, psycopg.errors.SerializationFailure("could not serialize access"))


@pytest.mark.parametrize("error", [deadlock(), serialization_failure()], ids=["deadlock", "serialization"])
def test_a_lost_race_is_run_again_until_it_commits(app, error):
    work, calls = failing(error, TRANSACTION_ATTEMPTS - 1)
    assert retry_transaction(work) == "stored" and len(calls) == TRANSACTION_ATTEMPTS


def test_a_race_lost_on_every_attempt_is_raised(app):
    work, calls = failing(deadlock(), TRANSACTION_ATTEMPTS)
    with pytest.raises(OperationalError):
        retry_transaction(work)
    assert len(calls) == TRANSACTION_ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, psycopg.errors.ConnectionTimeout("connection timed out")),
        IntegrityError("INSERT ...", {}, psycopg.errors.UniqueViolation("duplicate key")),
        ValueError("not a database error"),
    ],
    ids=["connection", "unique", "other"],
)
def test_any_other_error_is_raised_at_once(app, error):
    work, calls = failing(error, 1)
    with pytest.raises(type(error)):
        retry_transaction(work)
    assert len(calls) == 1 and not lost_a_race(error)

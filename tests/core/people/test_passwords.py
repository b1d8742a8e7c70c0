"""argon2 hashes: verified, refused, upgraded when the parameters change, and the same work for unknown emails."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core.db import db
from core.people import passwords
from core.people.accounts import check_sign_in
from core.people.models import Person
from tests.core.people.conftest import CHEAP
from tests.core.people.helpers import PASSWORD, make_person


def test_a_hash_verifies_its_password_only():
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert not passwords.verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize(
    "password, problem",
    [("x" * 11, "at least 12"), ("x" * 12, None), ("x" * 200, None), ("x" * 201, "at most 200")],
)
def test_password_length_is_checked(password, problem):
    found = passwords.password_problem(password)
    assert (found is None) if problem is None else (problem in found)


def test_the_real_parameters_are_argon2s_recommended_ones():
    assert passwords.PasswordHasher().memory_cost >= 64 * 1024  # what production uses, whatever the tests patch


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_signing_in_rehashes_a_password_stored_with_old_parameters(app, monkeypatch):
    person = make_person()
    old_hash = person.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(passwords, "HASHER", stronger)
    assert passwords.needs_rehash(old_hash)

    assert check_sign_in(person.email, PASSWORD) is not None
    db.session.commit()
    new_hash = db.session.get(Person, person.id).password_hash
    assert new_hash != old_hash and "m=2048,t=2" in new_hash
    assert not passwords.needs_rehash(new_hash)
    assert check_sign_in(person.email, PASSWORD) is not None


class CountingHasher(PasswordHasher):
    verifications = 0

    def verify(self, hash, password):
        CountingHasher.verifications += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_unknown_email_costs_one_verification_like_a_wrong_password(app, monkeypatch):
    person = make_person()
    monkeypatch.setattr(
        passwords, "HASHER", CountingHasher(time_cost=CHEAP.time_cost, memory_cost=CHEAP.memory_cost, parallelism=1)
    )
    for email, password in ((person.email, "wrong password!"), ("nobody@people.example", "wrong password!")):
        CountingHasher.verifications = 0
        assert check_sign_in(email, password) is None
        assert CountingHasher.verifications == 1, email

"""Password hashes with argon2id (argon2-cffi's RFC 9106 defaults), verified in about the same time whoever asks."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200

# Module-level so a test can put cheaper parameters in place; ``needs_rehash`` then upgrades real hashes.
HASHER = PasswordHasher()
_dummy_hashes: dict[tuple[object, ...], str] = {}


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


def spend_verification_time(password: str) -> None:
    """Verify against a hash made with the current parameters, so an unknown email costs what a known one does."""
    parameters = (HASHER.type, HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism, HASHER.hash_len)
    dummy = _dummy_hashes.get(parameters)
    if dummy is None:
        dummy = _dummy_hashes[parameters] = HASHER.hash("no such person")
    verify_password(dummy, password)

"""Password hashing (argon2id via pwdlib) and the password policy."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

MIN_LENGTH = 10
MAX_LENGTH = 256  # far above any passphrase; bounds the hashing cost of hostile input

# A short deny-list of the passwords seen most often in breach corpora; the length rule
# already excludes most of the rest.
COMMON = frozenset(
    [
        "password123",
        "password1234",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "qwerty12345",
        "iloveyou123",
        "passw0rd123",
        "welcome123",
        "letmein123",
        "abc1234567",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "0987654321",
        "1111111111",
        "aaaaaaaaaa",
        "administrator",
        "changeme123",
        "football123",
        "baseball123",
        "superman123",
        "trustno1234",
        "sunshine123",
        "princess123",
        "dragon1234",
        "monkey12345",
        "password12",
        "ketamine123",
    ]
)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Returns (ok, new_hash_if_parameters_changed)."""
    return _hasher().verify_and_update(password, password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not reveal it."""
    return _hasher().hash("not-a-real-password-but-the-same-cost")


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """A message saying what is wrong with a new password, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few words strung together work well."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        return "This password is too easy to guess. Try a few unrelated words."
    if email and lowered == email.lower():
        return "Do not use your email address as your password."
    if name and lowered.replace(" ", "") == name.lower().replace(" ", ""):
        return "Do not use your name as your password."
    return None

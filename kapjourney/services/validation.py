"""Small, strict input cleaners shared by services. Messages are written for the person typing."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from kapjourney.clock import is_valid_timezone


def clean_text(value: object, *, max_length: int) -> str:
    """Strip, normalize and drop control characters (keeps letters of every script)."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value).strip()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return text if len(text) <= max_length else text[: max_length + 1]


def name_problem(name: str, *, max_length: int = 80) -> str | None:
    if not name:
        return "Enter a name."
    if len(name) > max_length:
        return f"Use at most {max_length} characters."
    if "\n" in name or "\t" in name:
        return "Use a single line."
    return None


def normalize_email(value: object) -> tuple[str, str | None]:
    """Returns (normalized, problem)."""
    if not isinstance(value, str) or not value.strip():
        return "", "Enter an email address."
    raw = value.strip()
    if len(raw) > 254:
        return "", "That is longer than any email address can be."
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        return "", "Enter an email address like name@example.com."
    return result.normalized.lower(), None


def timezone_problem(name: str) -> str | None:
    return None if is_valid_timezone(name) else "Choose a time zone from the list."


_SMALL_INT = re.compile(r"-?[0-9]{1,9}")


def small_int(value: object) -> int | None:
    """An int from an int, or from a string of at most 9 ASCII digits; otherwise None.

    ``str.isdigit`` accepts "²" and other digits ``int`` refuses, and ``int`` refuses strings
    over 4300 digits: both would be a 500 instead of a message.
    """
    if type(value) is int:
        return value
    if isinstance(value, str) and _SMALL_INT.fullmatch(value.strip()):
        return int(value.strip())
    return None


MAX_ID = 2**31  # id columns are 32-bit INTEGER; larger ids cannot exist, so never query them


def record_id(value: object) -> int:
    """A record id from the browser (an int, or digits in a URL), or 0, which names nothing."""
    number = small_int(value)
    return number if number is not None and 0 < number < MAX_ID else 0

"""What the browser-tier server's log must never hold (S9), checked when the session ends.

The server runs as in production (``--env prod``, warnings and up). Every browser test's
traffic passes through it, so its log is scanned once the server has stopped: no demo or test
password, no session cookie value, no push endpoint, and no ``PHI-CANARY-`` text (the stored-XSS
test writes one into a check-in note).
"""

from __future__ import annotations

import re
from pathlib import Path

from kapjourney.seed import CLIENT_PASSWORD, STAFF_PASSWORD

PHI_CANARY = "PHI-CANARY-"
_FORBIDDEN = {
    "a demo password": re.compile(re.escape(CLIENT_PASSWORD) + "|" + re.escape(STAFF_PASSWORD)),
    "a session cookie value": re.compile(r"kj_session=[A-Za-z0-9_\-]{16,}"),
    "a push endpoint": re.compile(r"fcm\.googleapis\.com/fcm/send/|push\.services\.mozilla\.com"),
    "the PHI canary": re.compile(re.escape(PHI_CANARY)),
}


def leaks(log: Path) -> list[str]:
    """What the log holds that it must not, with the first line of each, cut short."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found = []
    for what, pattern in _FORBIDDEN.items():
        if match := pattern.search(text):
            line = text[text.rfind("\n", 0, match.start()) + 1 :].split("\n", 1)[0]
            found.append(f"{what}: {line[:160]}")
    return found

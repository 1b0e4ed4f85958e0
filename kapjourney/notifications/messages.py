"""What a reminder says. Lock screens show this text, so it never names the treatment, a score
or a symptom: a generic title and body, a link into the app, and an opaque id."""

from __future__ import annotations

from dataclasses import dataclass

from kapjourney.domain import reminders as kinds

GENERIC_TITLE = "You have an update in KAP Journey"
GENERIC_BODY = "Open the app to see what's next."


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    urgency: str  # RFC 8030: very-low | low | normal | high
    max_ttl: int  # seconds the push service may hold it for an offline phone
    tag: str  # collapses notifications of one kind on the device


MESSAGES = {
    kinds.CHECKIN_DUE: Message(
        "Time for your daily check-in",
        "It takes less than a minute.",
        "normal",
        12 * 3600,
        "kj-checkin",
    ),
    kinds.PREP_OPEN: Message(GENERIC_TITLE, GENERIC_BODY, "normal", 12 * 3600, "kj-prepare"),
    kinds.FOLLOWUP_DUE: Message(GENERIC_TITLE, GENERIC_BODY, "high", 6 * 3600, "kj-followup"),
    kinds.EXERCISE_DUE: Message(GENERIC_TITLE, GENERIC_BODY, "low", 12 * 3600, "kj-exercise"),
    kinds.ALERT_RAISED: Message(
        "You have an update in KAP Journey", "Please open your inbox.", "high", 3600, "kj-inbox"
    ),
    kinds.ALERT_ESCALATED: Message(
        "You have an update in KAP Journey",
        "Something in your inbox needs a reply.",
        "high",
        3600,
        "kj-inbox-escalated",
    ),
}


def payload(kind: str, *, public_id: str, url: str) -> dict[str, str]:
    """The push payload: what the service worker shows, where a tap goes, and the opaque id."""
    message = MESSAGES[kind]
    return {
        "title": message.title,
        "body": message.body,
        "url": url,
        "tag": message.tag,
        "id": public_id,
    }

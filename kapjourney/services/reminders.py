"""Reminder settings and devices: a person's push subscriptions, when their daily check-in
reminder comes, their quiet hours, and (for the care team) whether reminders reach a client.

Subscriptions arrive already checked against the push-service allowlist by the HTTP layer
(``notifications.endpoints``); this module stores them per device. Endpoints are bearer
capabilities: stored, never returned, logged or audited.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain import reminders as r
from kapjourney.domain.adherence import Device, reminder_state
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import Notification, PushSubscription, ReminderPreference, User
from kapjourney.domain.schemas import (
    Actor,
    DeliveryHealthView,
    DeviceView,
    ReminderSettingsView,
)
from kapjourney.services.clients import deny, fetch, load_client_for_staff
from kapjourney.services.formatting import when

PERMISSIONS = ("granted", "denied", "default")
STATUS_LABELS = {
    "active": "On",
    "expired": "Expired: turn reminders on again on that phone",
    "unsubscribed": "Turned off",
    "refused": "Not a supported push service",
}


@dataclass(frozen=True)
class NewDevice:
    endpoint: str
    p256dh: str
    auth: str


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def device_label(user_agent: str) -> str:
    """A short, non-identifying device name from the user agent: "Safari on iPhone"."""
    ua = user_agent or ""
    system = next(
        (
            name
            for pattern, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS X", "Mac"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if pattern in ua
        ),
        "",
    )
    browser = next(
        (
            name
            for pattern, name in (
                ("SamsungBrowser", "Samsung Internet"),
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("FxiOS", "Firefox"),
                ("CriOS", "Chrome"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if pattern in ua
        ),
        "Browser",
    )
    return f"{browser} on {system}" if system else browser


def _active_user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise deny(actor, "reminder_settings")
    return user


def save_device(
    *,
    session: Session,
    actor: Actor,
    device: NewDevice,
    user_agent: str = "",
    resave: bool = False,
) -> DeviceView:
    """Store this device's subscription for the signed-in person (a tap on "Turn on
    reminders"), or refresh it (``resave``: the app re-sends it on every start). A re-save never
    turns back on a device the person turned off or the push service retired. A subscription
    that belonged to someone else who used this browser before moves to the new person."""
    user = _active_user(session, actor)
    at = now()
    key = endpoint_hash(device.endpoint)
    row = _device_by_hash(session, key)
    if row is None:
        row = PushSubscription(
            user_id=user.id or 0,
            endpoint=device.endpoint,
            endpoint_hash=key,
            p256dh=device.p256dh,
            auth=device.auth,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # saved at this moment by another request (page and worker)
            row = _device_by_hash(session, key)
            if row is None:  # pragma: no cover - the constraint fired, so the winner exists
                raise
    elif resave and row.status != "active" and row.user_id == user.id:
        return _device_view(row, user.timezone)  # turned off stays off until turned on again
    row.user_id = user.id or 0
    row.p256dh, row.auth = device.p256dh, device.auth
    row.device = device_label(user_agent)[:80]
    row.push_host = (urlsplit(device.endpoint).hostname or "")[:120]
    if row.status != "active":
        row.status, row.disabled_at = "active", None
    row.seen_at = at
    session.add(row)
    pref = _preference(session, user.id or 0)
    pref.permission, pref.permission_at = "granted", at
    session.add(pref)
    session.flush()
    return _device_view(row, user.timezone)


def _device_by_hash(session: Session, key: str) -> PushSubscription | None:
    return session.exec(
        select(PushSubscription).where(PushSubscription.endpoint_hash == key)
    ).first()


def forget_device(*, session: Session, actor: Actor, endpoint: object) -> bool:
    """Turn reminders off for one device of the signed-in person."""
    user = _active_user(session, actor)
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 4096:
        return False
    row = session.exec(
        select(PushSubscription).where(
            PushSubscription.endpoint_hash == endpoint_hash(endpoint),
            PushSubscription.user_id == user.id,
        )
    ).first()
    if row is None:
        return False
    row.status, row.disabled_at = "unsubscribed", now()
    session.add(row)
    return True


def forget_device_by_id(*, session: Session, actor: Actor, device_id: object) -> None:
    """Turn off a device listed on the settings page (only the person's own)."""
    user = _active_user(session, actor)
    row = fetch(session, PushSubscription, device_id)
    if row is None or row.user_id != user.id:
        raise deny(actor, "device")
    if row.status == "active":
        row.status, row.disabled_at = "unsubscribed", now()
        session.add(row)


def report_permission(*, session: Session, actor: Actor, permission: object) -> None:
    """What the device says about notification permission, on every app start."""
    user = _active_user(session, actor)
    if permission not in PERMISSIONS:
        raise ValidationFailed({"permission": "Unknown permission state."})
    pref = _preference(session, user.id or 0)
    if pref.permission != permission:
        pref.permission, pref.permission_at = str(permission), now()
        session.add(pref)


def _preference(session: Session, user_id: int) -> ReminderPreference:
    return session.get(ReminderPreference, user_id) or ReminderPreference(user_id=user_id)


def _last_delivery(row: PushSubscription, tz: str) -> tuple[str, bool]:
    success = as_utc(row.last_success_at) if row.last_success_at else None
    failure = as_utc(row.last_failure_at) if row.last_failure_at else None
    if row.status == "expired":
        return "The push service says this subscription has ended.", False
    if success is None and failure is None:
        return "No reminder sent yet", row.status == "active"
    if success is not None and (failure is None or success >= failure):
        return f"Last reminder reached it {when(success, tz)}", row.status == "active"
    return f"Last reminder could not be delivered ({when(failure, tz)})", False


def _device_view(row: PushSubscription, tz: str) -> DeviceView:
    last, healthy = _last_delivery(row, tz)
    return DeviceView(
        device_id=row.id or 0,
        label=row.device or "Browser",
        status=row.status,
        status_label=STATUS_LABELS.get(row.status, row.status),
        added=when(row.created_at, tz),
        last_delivery=last,
        healthy=healthy,
    )


def _devices(session: Session, user: User) -> list[DeviceView]:
    rows = session.exec(
        select(PushSubscription)
        .where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.status, PushSubscription.seen_at.desc())
    ).all()
    return [_device_view(row, user.timezone) for row in rows if row.status != "unsubscribed"]


def get_settings(*, session: Session, actor: Actor) -> ReminderSettingsView:
    user = _active_user(session, actor)
    pref = _preference(session, user.id or 0)
    return ReminderSettingsView(
        is_client=user.role == Role.CLIENT,
        checkin_enabled=pref.checkin_enabled,
        checkin_time=pref.checkin_time,
        quiet_start=pref.quiet_start,
        quiet_end=pref.quiet_end,
        devices=_devices(session, user),
        permission=pref.permission,
    )


def update_settings(
    *,
    session: Session,
    actor: Actor,
    checkin_enabled: object,
    checkin_time: object,
    quiet_start: object,
    quiet_end: object,
) -> ReminderSettingsView:
    """Change when the daily reminder comes and the quiet hours. A reminder time inside the
    quiet hours would never ring, so it is refused at the field."""
    user = _active_user(session, actor)
    problems: dict[str, str] = {}
    parsed = {}
    for field, value in (
        ("checkin_time", checkin_time),
        ("quiet_start", quiet_start),
        ("quiet_end", quiet_end),
    ):
        try:
            parsed[field] = r.parse_hhmm(value, field)
        except ValidationFailed as problem:
            problems |= problem.fields
    if not isinstance(checkin_enabled, bool):
        problems["checkin_enabled"] = "Choose on or off."
    if not problems and r.Quiet(parsed["quiet_start"], parsed["quiet_end"]).holds(
        parsed["checkin_time"]
    ):
        problems["checkin_time"] = "Choose a time outside your quiet hours, or change them."
    if problems:
        raise ValidationFailed(problems)
    pref = _preference(session, user.id or 0)
    pref.checkin_enabled = bool(checkin_enabled)
    pref.checkin_time = parsed["checkin_time"].strftime("%H:%M")
    pref.quiet_start = parsed["quiet_start"].strftime("%H:%M")
    pref.quiet_end = parsed["quiet_end"].strftime("%H:%M")
    pref.updated_at = now()
    session.add(pref)
    session.flush()
    return get_settings(session=session, actor=actor)


HEALTH_WORDS = {  # state -> (label, detail); the last accepted time has its own field
    "never": ("Never turned on", "They have not turned reminders on on any phone."),
    "revoked": (
        "Permission turned off",
        "Their phone no longer allows notifications from KAP Journey.",
    ),
    "expired": (
        "Expired",
        "The push service ended their subscription; ask them to turn reminders on again.",
    ),
    "off": ("Turned off", "They turned reminders off."),
    "failing": ("Not getting through", "Recent reminders could not be delivered."),
    "reaching": ("Reaching them", "Their phone's push service is taking reminders."),
    "waiting": ("On", "Turned on; no reminder has been sent yet."),
}


def delivery_health(*, session: Session, actor: Actor, client_id: object) -> DeliveryHealthView:
    """For the care team: are reminders reaching this client? (The rule itself is
    ``domain.adherence.reminder_state``, which the caseload dashboard shares.)"""
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="delivery_health_viewed"
    )
    tz = client.timezone  # the client's page shows times in the client's zone
    rows = session.exec(select(PushSubscription).where(PushSubscription.user_id == client.id)).all()
    pref = _preference(session, client.id or 0)
    state = reminder_state(
        [
            Device(
                status=row.status,
                last_success=as_utc(row.last_success_at) if row.last_success_at else None,
                last_failure=as_utc(row.last_failure_at) if row.last_failure_at else None,
            )
            for row in rows
        ],
        permission=pref.permission,
        permission_at=as_utc(pref.permission_at) if pref.permission_at else None,
    )
    successes = [as_utc(row.last_success_at) for row in rows if row.last_success_at]
    last_label = when(max(successes), tz) if successes else ""
    label, detail = HEALTH_WORDS[state]
    return DeliveryHealthView(
        state=state,
        label=label,
        detail=detail,
        last_success=last_label,
        devices=[_device_view(row, tz) for row in rows if row.status != "unsubscribed"],
    )


def mark_seen(*, session: Session, actor: Actor, public_id: object, event: object) -> bool:
    """The service worker's receipt: the notification was shown, or tapped."""
    if not isinstance(public_id, str) or not re.fullmatch(r"[0-9a-f]{32}", public_id):
        return False
    if event not in ("shown", "clicked"):
        return False
    row = session.exec(
        select(Notification).where(
            Notification.public_id == public_id, Notification.user_id == actor.user_id
        )
    ).first()
    if row is None:
        return False
    at = now()
    if event == "shown" and row.shown_at is None:
        row.shown_at = at
    if event == "clicked":
        row.clicked_at = row.clicked_at or at
        row.shown_at = row.shown_at or at
    session.add(row)
    return True

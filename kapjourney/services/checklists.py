"""Preparation checklists: one per dosing session, made from the clinic's template."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import (
    ROUTE_LABELS,
    SETTING_LABELS,
    DosingRoute,
    DosingSetting,
    DosingStatus,
    ValueKind,
)
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    ChecklistItem,
    ChecklistTemplateItem,
    ClinicProtocol,
    DosingSession,
    User,
)
from kapjourney.domain.protocol import (
    DIASTOLIC_RANGE,
    PULSE_RANGE,
    SYSTOLIC_RANGE,
    applies,
)
from kapjourney.domain.readiness import Vitals
from kapjourney.domain.safety import Facts
from kapjourney.domain.schemas import Actor, ChecklistItemView, ChecklistView
from kapjourney.services import audit, safety
from kapjourney.services.clients import deny, fetch, load_client
from kapjourney.services.formatting import when
from kapjourney.services.protocol import default_template, protocol_for
from kapjourney.services.validation import clean_text, small_int

VALUE_FIELDS = {
    ValueKind.NONE: (),
    ValueKind.CHAPERONE: ("name", "phone"),
    ValueKind.BLOOD_PRESSURE: ("systolic", "diastolic", "pulse"),
    ValueKind.TEXT: ("text",),
}
DRAFT_MAX = 10_000
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{7,25}$")


def _template(session: Session, clinic_id: int) -> list[ChecklistTemplateItem]:
    rows = session.exec(
        select(ChecklistTemplateItem)
        .where(ChecklistTemplateItem.clinic_id == clinic_id, ChecklistTemplateItem.active)
        .order_by(ChecklistTemplateItem.position)
    ).all()
    return list(rows) or default_template(clinic_id)


def sync_checklist(session: Session, dosing: DosingSession, *, clinic_id: int) -> None:
    """Make the session's checklist match its time, setting and the clinic's protocol.

    New sessions get every step that applies; a moved session's due times move with it; a
    change of setting adds the steps that now apply and drops undone ones that no longer do;
    undone steps take the protocol's current wording (e.g. a new fasting time).
    """
    protocol: ClinicProtocol = protocol_for(session, clinic_id)
    existing = {
        i.key: i
        for i in session.exec(
            select(ChecklistItem).where(ChecklistItem.dosing_session_id == dosing.id)
        ).all()
    }
    start = as_utc(dosing.scheduled_at)
    wanted = set()
    for step in _template(session, clinic_id):
        if not applies(step.applies_to, dosing.setting):
            continue
        wanted.add(step.key)
        item = existing.get(step.key)
        if item is None:
            item = ChecklistItem(
                dosing_session_id=dosing.id or 0,
                client_id=dosing.client_id,
                key=step.key,
                value_kind=step.value_kind,
                due_at=start,
            )
        if item.done_at is None:  # a ticked step keeps the wording the client agreed to
            hours = str(protocol.fasting_hours)
            item.position = step.position
            item.label = step.label.replace("{fasting_hours}", hours)
            item.help = step.help.replace("{fasting_hours}", hours)
            item.due_minutes_before = step.due_minutes_before
            item.required = step.required
        item.due_at = start - timedelta(minutes=item.due_minutes_before)
        session.add(item)
    for key, item in existing.items():
        if key not in wanted and item.done_at is None:
            session.delete(item)
    session.flush()


def load_dosing(
    session: Session, *, actor: Actor, dosing_session_id: object, purpose: str
) -> tuple[DosingSession, User]:
    dosing = fetch(session, DosingSession, dosing_session_id)
    if dosing is None:
        raise deny(actor, purpose)
    client = load_client(session, actor=actor, client_id=dosing.client_id, purpose=purpose)
    return dosing, client


def items_for(session: Session, dosing_session_id: int) -> list[ChecklistItem]:
    return list(
        session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.dosing_session_id == dosing_session_id)
            .order_by(ChecklistItem.due_at, ChecklistItem.position, ChecklistItem.id)
        ).all()
    )


def stored_values(item: ChecklistItem) -> dict[str, str]:
    try:
        data = json.loads(item.value) if item.value else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data.get(k, "")) for k in VALUE_FIELDS.get(ValueKind(item.value_kind), ())}


def vitals_of(item: ChecklistItem) -> Vitals | None:
    if item.value_kind != ValueKind.BLOOD_PRESSURE or item.done_at is None:
        return None
    values = stored_values(item)
    try:
        return Vitals(int(values["systolic"]), int(values["diastolic"]), int(values["pulse"]))
    except (KeyError, ValueError):
        return None


def _summary(item: ChecklistItem) -> str:
    values = stored_values(item)
    kind = ValueKind(item.value_kind)
    if kind == ValueKind.CHAPERONE:
        return f"{values.get('name', '')} · {values.get('phone', '')}"
    if kind == ValueKind.BLOOD_PRESSURE:
        return (
            f"{values.get('systolic')}/{values.get('diastolic')} mmHg, pulse {values.get('pulse')}"
        )
    if kind == ValueKind.TEXT:
        return values.get("text", "")
    return ""


def build_view(
    session: Session, dosing: DosingSession, client: User, actor: Actor
) -> ChecklistView:
    from kapjourney.services.readiness import session_readiness  # avoids an import cycle

    tz = client.timezone  # the session happens where the client is; the plan shows it so too
    items = items_for(session, dosing.id or 0)
    at = now()
    protocol = protocol_for(session, client.clinic_id)
    start = as_utc(dosing.scheduled_at)
    stop = (start - timedelta(hours=protocol.fasting_hours)).astimezone(ZoneInfo(tz))
    return ChecklistView(
        dosing_session_id=dosing.id or 0,
        client_id=client.id or 0,
        title=f"Session {dosing.number}",
        when=when(start, tz),
        setting_label=SETTING_LABELS[DosingSetting(dosing.setting)],
        route_label=ROUTE_LABELS[DosingRoute(dosing.route)],
        status=dosing.status,
        stop_eating_at=when(stop, tz),
        readiness=session_readiness(session, client, dosing, at=at, for_client=actor.is_client),
        items=[
            ChecklistItemView(
                item_id=i.id or 0,
                key=i.key,
                label=i.label,
                help=i.help,
                due=when(i.due_at, tz),
                late=i.done_at is None and at > as_utc(i.due_at),
                done=i.done_at is not None,
                done_at=when(i.done_at, tz) if i.done_at else "",
                value_kind=i.value_kind,
                required=i.required,
                values=stored_values(i),
                summary=_summary(i) if i.done_at else "",
            )
            for i in items
        ],
        done=sum(1 for i in items if i.done_at is not None),
        total=len(items),
    )


def get_checklist(*, session: Session, actor: Actor, dosing_session_id: object) -> ChecklistView:
    dosing, client = load_dosing(
        session, actor=actor, dosing_session_id=dosing_session_id, purpose="checklist_viewed"
    )
    return build_view(session, dosing, client, actor)


def _load_item(
    session: Session, actor: Actor, item_id: object, purpose: str
) -> tuple[ChecklistItem, DosingSession, User]:
    item = fetch(session, ChecklistItem, item_id)
    if item is None:
        raise deny(actor, purpose)
    dosing, client = load_dosing(
        session, actor=actor, dosing_session_id=item.dosing_session_id, purpose=purpose
    )
    return item, dosing, client


def _int_field(values: dict, name: str, label: str, low: int, high: int, problems: dict) -> int:
    raw = str(values.get(name, "")).strip()
    if not raw:
        problems[name] = f"Enter the {label}."
        return 0
    number = small_int(raw) if len(raw) <= 4 else None
    if number is None or number < 0:
        problems[name] = f"Enter the {label} as a whole number."
        return 0
    if not low <= number <= high:
        problems[name] = (
            f"{number} is outside the range a {label} can be ({low}-{high}). Please check it."
        )
    return number


def validate_values(kind: ValueKind, values: dict) -> dict[str, str]:
    """The cleaned values for ``kind``, or ``ValidationFailed`` naming each bad field."""
    problems: dict[str, str] = {}
    clean: dict[str, str] = {}
    if kind == ValueKind.CHAPERONE:
        name = clean_text(values.get("name", ""), max_length=120)
        phone = clean_text(values.get("phone", ""), max_length=40)
        if not name:
            problems["name"] = "Enter your chaperone's name."
        elif len(name) > 120 or "\n" in name:
            problems["name"] = "Use one line of at most 120 characters."
        if not phone:
            problems["phone"] = "Enter a phone number we can reach them on."
        elif not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 7:
            problems["phone"] = "Enter a phone number using digits, spaces, +, ( ) or -."
        clean = {"name": name, "phone": phone}
    elif kind == ValueKind.BLOOD_PRESSURE:
        systolic = _int_field(values, "systolic", "systolic pressure", *SYSTOLIC_RANGE, problems)
        diastolic = _int_field(
            values, "diastolic", "diastolic pressure", *DIASTOLIC_RANGE, problems
        )
        pulse = _int_field(values, "pulse", "pulse", *PULSE_RANGE, problems)
        if not problems and diastolic >= systolic:
            problems["diastolic"] = "The lower number (diastolic) must be below the upper one."
        clean = {"systolic": str(systolic), "diastolic": str(diastolic), "pulse": str(pulse)}
    elif kind == ValueKind.TEXT:
        text = clean_text(values.get("text", ""), max_length=1000)
        if not text:
            problems["text"] = "Write a word or a sentence."
        elif len(text) > 1000:
            problems["text"] = "Keep it under 1000 characters."
        clean = {"text": text}
    if problems:
        raise ValidationFailed(problems)
    return clean


def _check_open(dosing: DosingSession) -> None:
    if dosing.status != DosingStatus.SCHEDULED:
        raise ValidationFailed({"form": "This session is no longer scheduled."})


def complete_item(
    *, session: Session, actor: Actor, item_id: object, values: object = None
) -> ChecklistView:
    """Tick a step (with its value). The client, or their care team on their behalf."""
    item, dosing, client = _load_item(session, actor, item_id, "checklist_item_done")
    _check_open(dosing)
    given = values if isinstance(values, dict) else {}
    kind = ValueKind(item.value_kind)
    if kind != ValueKind.NONE:
        # A refusal rolls back; what was typed is already kept by ``save_item_draft``.
        item.value = json.dumps(validate_values(kind, given), ensure_ascii=False)
    item.done_at = now()
    item.done_by_id = actor.user_id
    item.updated_at = item.done_at
    session.add(item)
    session.flush()
    _audit(session, actor, client, item, "checklist_item_done")
    if kind == ValueKind.BLOOD_PRESSURE:
        _vitals_alert(session, client, item)
    return build_view(session, dosing, client, actor)


def _vitals_alert(session: Session, client: User, item: ChecklistItem) -> None:
    """A pre-dose reading the clinic's safety rules call very high alerts the care team, in
    this transaction (the readiness gate already turns the session red above the dosing limit)."""
    values = stored_values(item)
    reading = {k: small_int(values.get(k, "")) for k in ("systolic", "diastolic", "pulse")}
    safety.apply(
        session,
        client=client,
        facts=Facts("vitals", {}, **reading),
        source_kind="checklist_item",
        source_id=item.id or 0,
    )


def _audit(session: Session, actor: Actor, client: User, item: ChecklistItem, action: str):
    audit.record(
        session,
        action=action,
        actor_id=actor.user_id,
        subject_client_id=client.id,
        target=f"item:{item.id}",
        ip=actor.ip,
        detail=f"key={item.key}",
    )


def reopen_item(*, session: Session, actor: Actor, item_id: object) -> ChecklistView:
    """Untick a step; its value stays as a draft to edit."""
    item, dosing, client = _load_item(session, actor, item_id, "checklist_item_reopened")
    _check_open(dosing)
    item.done_at = None
    item.done_by_id = None
    item.updated_at = now()
    session.add(item)
    session.flush()
    _audit(session, actor, client, item, "checklist_item_reopened")
    return build_view(session, dosing, client, actor)


def save_item_draft(
    *, session: Session, actor: Actor, item_id: object, field: object, value: object
) -> None:
    """Keep a value as it is typed, before the step is ticked. Not validated until then."""
    item, dosing, _ = _load_item(session, actor, item_id, "checklist_item_draft")
    _check_open(dosing)
    kind = ValueKind(item.value_kind)
    if field not in VALUE_FIELDS[kind] or item.done_at is not None:
        return
    values = stored_values(item)
    values[str(field)] = value[:DRAFT_MAX] if isinstance(value, str) else ""
    item.value = json.dumps(values, ensure_ascii=False)
    item.updated_at = now()
    session.add(item)

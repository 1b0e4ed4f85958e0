"""Clinic protocol settings and the defaults a clinic starts with."""

from __future__ import annotations

from sqlmodel import Session, select

from kapjourney.clock import now
from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.consent_text import digest, normalize, parse
from kapjourney.domain.enums import DosingStatus, Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    ChecklistTemplateItem,
    ClinicProtocol,
    ConsentDocument,
    Course,
    DosingSession,
)
from kapjourney.domain.protocol import (
    DEFAULT_FOLLOWUP_MINUTES,
    DEFAULT_TEMPLATE,
    FOLLOWUP_SOURCE,
    SETTINGS,
    format_offsets,
    parse_offsets,
)
from kapjourney.domain.schemas import Actor, ProtocolSettingView, ProtocolView
from kapjourney.services import audit
from kapjourney.services.clients import deny
from kapjourney.services.formatting import when
from kapjourney.services.validation import small_int


def protocol_for(session: Session, clinic_id: int) -> ClinicProtocol:
    """The clinic's protocol row, or an unsaved one holding the published defaults."""
    return session.get(ClinicProtocol, clinic_id) or ClinicProtocol(clinic_id=clinic_id)


def followup_minutes(protocol: ClinicProtocol) -> tuple[int, ...]:
    return tuple(n for v in protocol.followup_minutes.split(",") if (n := small_int(v)) is not None)


def default_template(clinic_id: int) -> list[ChecklistTemplateItem]:
    """The published preparation steps as (unsaved) template rows for a clinic."""
    return [
        ChecklistTemplateItem(
            clinic_id=clinic_id,
            key=step.key,
            position=position,
            label=step.label,
            help=step.help,
            applies_to=step.applies_to,
            due_minutes_before=step.due_minutes_before,
            value_kind=step.value_kind,
            required=step.required,
        )
        for position, step in enumerate(DEFAULT_TEMPLATE)
    ]


def ensure_clinic_defaults(session: Session, *, clinic_id: int) -> None:
    """Give a clinic its protocol, preparation template and first consent document if missing."""
    if session.get(ClinicProtocol, clinic_id) is None:
        session.add(ClinicProtocol(clinic_id=clinic_id))
    if (
        session.exec(
            select(ChecklistTemplateItem.id).where(ChecklistTemplateItem.clinic_id == clinic_id)
        ).first()
        is None
    ):
        session.add_all(default_template(clinic_id))
    if (
        session.exec(
            select(ConsentDocument.id).where(ConsentDocument.clinic_id == clinic_id)
        ).first()
        is None
    ):
        text = normalize(DEFAULT_CONSENT_TEXT)
        session.add(
            ConsentDocument(
                clinic_id=clinic_id,
                version=1,
                title=parse(text).title,
                source_text=text,
                sha256=digest(text),
            )
        )
    session.flush()


def _view(protocol: ClinicProtocol, actor: Actor) -> ProtocolView:
    return ProtocolView(
        settings=[
            ProtocolSettingView(
                name=s.name,
                label=s.label,
                unit=s.unit,
                value=getattr(protocol, s.name),
                default=s.default,
                low=s.low,
                high=s.high,
                source=s.source,
            )
            for s in SETTINGS
        ],
        followups=format_offsets(followup_minutes(protocol)),
        followups_default=format_offsets(DEFAULT_FOLLOWUP_MINUTES),
        followups_source=FOLLOWUP_SOURCE,
        updated=when(protocol.updated_at, actor.timezone) if protocol.updated_by_id else "",
    )


def get_protocol(*, session: Session, actor: Actor) -> ProtocolView:
    if not actor.is_staff:
        raise deny(actor, "protocol_viewed")
    return _view(protocol_for(session, actor.clinic_id), actor)


def update_protocol(*, session: Session, actor: Actor, values: dict) -> ProtocolView:
    """Change the clinic's protocol (admins only). Each changed setting is audited old -> new."""
    if actor.role != Role.ADMIN:
        raise deny(actor, "protocol_changed")
    values = values if isinstance(values, dict) else {}
    protocol = protocol_for(session, actor.clinic_id)
    problems: dict[str, str] = {}
    parsed: dict[str, int | str] = {}
    for s in SETTINGS:
        raw = str(values.get(s.name, getattr(protocol, s.name)))[:20].strip()
        number = small_int(raw)
        if number is None or not s.low <= number <= s.high:
            problems[s.name] = f"Enter a whole number from {s.low} to {s.high}."
        else:
            parsed[s.name] = number
    current = format_offsets(followup_minutes(protocol))
    offsets, problem = parse_offsets(str(values.get("followups", current))[:1000])
    if problem:
        problems["followups"] = problem
    else:
        parsed["followup_minutes"] = ",".join(str(m) for m in offsets)
    if not problems and parsed["bp_diastolic_max"] >= parsed["bp_systolic_max"]:  # type: ignore[operator]
        problems["bp_diastolic_max"] = "The diastolic limit must be below the systolic limit."
    if problems:
        raise ValidationFailed(problems)
    changed = [(k, getattr(protocol, k), v) for k, v in parsed.items() if getattr(protocol, k) != v]
    for name, old, new in changed:
        setattr(protocol, name, new)
        audit.record(
            session,
            action="protocol_changed",
            actor_id=actor.user_id,
            target=name,
            ip=actor.ip,
            detail=f"{old}->{new}"[:200],
        )
    if changed:
        protocol.updated_at = now()
        protocol.updated_by_id = actor.user_id
        session.add(protocol)
        session.flush()
        _resync_upcoming(session, actor.clinic_id)
    return _view(protocol, actor)


def _resync_upcoming(session: Session, clinic_id: int) -> None:
    """Upcoming sessions' checklists take the new protocol (e.g. the fasting time)."""
    from kapjourney.services.checklists import sync_checklist  # checklists imports this module

    upcoming = session.exec(
        select(DosingSession)
        .join(Course, Course.id == DosingSession.course_id)
        .where(
            Course.clinic_id == clinic_id,
            DosingSession.status == DosingStatus.SCHEDULED,
            DosingSession.scheduled_at > now(),
        )
    ).all()
    for dosing in upcoming:
        sync_checklist(session, dosing, clinic_id=clinic_id)

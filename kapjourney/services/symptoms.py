"""Post-session symptom reports: one per completed dosing session and follow-up offset.

A report is due from dosing time + offset (the clinic's follow-ups, default 2 h, 24 h, 72 h,
7 d). Each answer is saved as a draft as it is given, and every save runs the clinic's safety
rules, so a worrying answer in an unfinished report still reaches the care team. Submitting
grades every item (CTCAE-like), triages the report and raises or raises-up its alert in the
same transaction that stores it: no report is kept without its alert.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import AlertStatus, DosingStatus
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.models import (
    Alert,
    Clinic,
    DosingSession,
    SubmissionReceipt,
    SymptomReport,
    User,
)
from kapjourney.domain.safety import (
    DIASTOLIC_RANGE,
    GRADE_LABELS,
    PULSE_RANGE,
    SEVERITY,
    SYMPTOM_ITEMS,
    SYMPTOMS,
    SYSTOLIC_RANGE,
    Facts,
    grade,
    grades,
)
from kapjourney.domain.schemas import (
    Actor,
    ChoiceView,
    ReportResult,
    SymptomItemView,
    SymptomReportRow,
    SymptomReportView,
    TodoItem,
)
from kapjourney.routes import report_url
from kapjourney.services import audit, safety
from kapjourney.services.clients import deny, fetch, load_client, load_client_for_staff
from kapjourney.services.formatting import when
from kapjourney.services.protocol import followup_minutes, protocol_for
from kapjourney.services.validation import MAX_ID, clean_text, record_id, small_int

REPORT_KIND = "symptom_report"
DRAFT, SUBMITTED = "draft", "submitted"
NOTE_MAX = 2000
LAST_WINDOW = timedelta(days=7)  # the last follow-up stays on Today this long after it is due
CLOCK_SKEW = timedelta(minutes=5)  # an offline phone's clock may run a little fast
ITEM_KEYS = tuple(key for key, _ in SYMPTOM_ITEMS)
ITEM_TEXT = dict(SYMPTOM_ITEMS)
SEVERITY_VALUES = {c.value for c in SEVERITY}
VITALS = {"systolic": SYSTOLIC_RANGE, "diastolic": DIASTOLIC_RANGE, "pulse": PULSE_RANGE}
VITAL_NAMES = {"systolic": "upper number", "diastolic": "lower number", "pulse": "pulse"}
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def offset_label(minutes: int) -> str:
    """120 -> "2 hours", 1440 -> "24 hours", 10080 -> "7 days", 45 -> "45 minutes"."""
    if minutes % 1440 == 0 and minutes >= 7 * 1440:
        n, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _offsets(session: Session, clinic_id: int) -> tuple[int, ...]:
    return tuple(sorted(set(followup_minutes(protocol_for(session, clinic_id)))))


def _dosed_at(dosing: DosingSession) -> datetime:
    return as_utc(dosing.scheduled_at)


def _hours(dosing: DosingSession, at: datetime) -> float:
    return (at - _dosed_at(dosing)).total_seconds() / 3600


def _report(
    session: Session, dosing_id: int, offset: int, *, lock: bool = False
) -> SymptomReport | None:
    query = select(SymptomReport).where(
        SymptomReport.dosing_session_id == dosing_id, SymptomReport.offset_minutes == offset
    )
    return session.exec(query.with_for_update() if lock else query).first()


def _target(
    session: Session, actor: Actor, dosing_session_id: object, offset_minutes: object, purpose: str
) -> tuple[User, DosingSession, int]:
    """The client's own completed session and a follow-up of it that is due (or already begun).

    Anyone else, and any session that is not the client's, gets the audited "not found"."""
    if not actor.is_client:
        raise deny(actor, purpose)
    dosing = fetch(session, DosingSession, record_id(dosing_session_id))
    if dosing is None or dosing.client_id != actor.user_id:
        raise deny(actor, purpose)
    client = load_client(session, actor=actor, client_id=actor.user_id, purpose=purpose)
    offset = small_int(offset_minutes)
    # An int from JSON is unbounded; one past the INTEGER column would be a 500, not a 404.
    if dosing.status != DosingStatus.COMPLETED or offset is None or abs(offset) >= MAX_ID:
        raise NotFound("report")
    known = offset in _offsets(session, client.clinic_id) or _report(
        session, dosing.id or 0, offset
    )
    # A phone whose clock runs a little fast may open the form a moment early.
    if not known or now() + CLOCK_SKEW < _dosed_at(dosing) + timedelta(minutes=offset):
        raise NotFound("report")
    return client, dosing, offset


def _ensure_report(
    session: Session, client: User, dosing: DosingSession, offset: int
) -> SymptomReport:
    """The report row, locked; created as a draft when missing (a concurrent creator wins)."""
    report = _report(session, dosing.id or 0, offset, lock=True)
    if report is not None:
        return report
    report = SymptomReport(
        client_id=client.id or 0,
        clinic_id=client.clinic_id,
        dosing_session_id=dosing.id or 0,
        offset_minutes=offset,
        due_at=_dosed_at(dosing) + timedelta(minutes=offset),
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        report = _report(session, dosing.id or 0, offset, lock=True)
        if report is None:
            raise
    return report


def _answers(report: SymptomReport | None) -> dict[str, int]:
    try:
        raw = json.loads(report.answers) if report is not None else {}
    except ValueError:
        raw = {}
    raw = raw if isinstance(raw, dict) else {}
    return {k: v for k, v in raw.items() if k in ITEM_KEYS and type(v) is int}


def _alert_of(session: Session, report: SymptomReport | None) -> Alert | None:
    if report is None or report.id is None:
        return None
    return session.exec(
        select(Alert).where(Alert.source_kind == REPORT_KIND, Alert.source_id == report.id)
    ).first()


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _view(
    session: Session, client: User, dosing: DosingSession, offset: int, report: SymptomReport | None
) -> SymptomReportView:
    answers = _answers(report)
    alert = _alert_of(session, report)
    clinic = session.get(Clinic, client.clinic_id)
    choices = [ChoiceView(value=c.value, label=c.label) for c in SEVERITY]
    return SymptomReportView(
        dosing_session_id=dosing.id or 0,
        offset_minutes=offset,
        title=f"{offset_label(offset)} after session {dosing.number}",
        session_number=dosing.number,
        offset_label=offset_label(offset),
        preamble=SYMPTOMS.preamble,
        source=SYMPTOMS.source,
        items=[
            SymptomItemView(
                key=item.key,
                number=n,
                text=item.text,
                choices=choices,
                answer=_text(answers.get(item.key)),
            )
            for n, item in enumerate(SYMPTOMS.items, 1)
        ],
        systolic=_text(report.systolic) if report else "",
        diastolic=_text(report.diastolic) if report else "",
        pulse=_text(report.pulse) if report else "",
        note=report.note if report else "",
        submitted=report is not None and report.status == SUBMITTED,
        hours_since_dosing=round(_hours(dosing, now()), 1),
        answered=len(answers),
        required=len(ITEM_KEYS),
        alert_tier=str(alert.severity)
        if alert is not None and alert.status != AlertStatus.RESOLVED
        else "",
        emergency_number=clinic.emergency_number if clinic else "",
    )


def get_report(
    *, session: Session, actor: Actor, dosing_session_id: object, offset_minutes: object
) -> SymptomReportView:
    client, dosing, offset = _target(
        session, actor, dosing_session_id, offset_minutes, "symptom_report_viewed"
    )
    return _view(session, client, dosing, offset, _report(session, dosing.id or 0, offset))


# --- Checking what was typed --------------------------------------------------------------------


def _severity(key: str, value: object) -> int:
    number = small_int(value)
    if number is None or number not in SEVERITY_VALUES:
        raise ValidationFailed({key: "Choose one of the answers."})
    return number


def _vital(name: str, value: object) -> int | None:
    """A reading, or None when left empty; a slip of the finger gets a message, not a finding."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    low, high = VITALS[name]
    number = small_int(value)
    if number is None:
        raise ValidationFailed({name: f"Enter the {VITAL_NAMES[name]} as a number, like 120."})
    if not low <= number <= high:
        raise ValidationFailed({name: f"Enter a number from {low} to {high}."})
    return number


def _note(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({"note": "Write your note as text."})
    text = clean_text(value, max_length=NOTE_MAX)
    if len(text) > NOTE_MAX:
        raise ValidationFailed(
            {"note": f"Please keep your note to {NOTE_MAX:,} characters (it has {len(value):,})."}
        )
    return text


def _collect(problems: dict[str, str], check, *args):
    try:
        return check(*args)
    except ValidationFailed as problem:
        problems.update(problem.fields)
        return None


def _checked(answers: object, systolic: object, diastolic: object, pulse: object, note: object):
    """Every item answered, readings in range and paired, the note within bounds."""
    answers = answers if isinstance(answers, dict) else {}
    problems: dict[str, str] = {}
    clean: dict[str, int] = {}
    for key in ITEM_KEYS:
        if answers.get(key) is None or answers.get(key) == "":
            problems[key] = "Please choose an answer (choose None if you have not had this)."
        elif (value := _collect(problems, _severity, key, answers[key])) is not None:
            clean[key] = value
    readings = {
        name: _collect(problems, _vital, name, raw)
        for name, raw in (("systolic", systolic), ("diastolic", diastolic), ("pulse", pulse))
    }
    text = _collect(problems, _note, note) or ""
    sys_, dia = readings["systolic"], readings["diastolic"]
    if not problems.keys() & {"systolic", "diastolic"}:
        if (sys_ is None) != (dia is None):
            missing = "diastolic" if dia is None else "systolic"
            problems[missing] = "Enter both blood pressure numbers, or leave both empty."
        elif sys_ is not None and dia is not None and sys_ <= dia:
            problems["diastolic"] = "The lower number must be smaller than the upper number."
    if problems:
        raise ValidationFailed(problems)
    return clean, readings, text


def _captured(value: object, dosing: DosingSession, due: datetime) -> datetime:
    """When the answers were given (offline capture) or now; never before the follow-up is due,
    so a report can never look earlier than it was asked for."""
    at: datetime | None
    if value is None:
        at = now()
    elif isinstance(value, datetime):
        at = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            at = datetime.fromisoformat(value.strip())
        except ValueError:
            at = None
    else:
        at = None
    if at is None or at.tzinfo is None:
        raise ValidationFailed({"captured_at": "The time the report was written is not valid."})
    try:
        at = as_utc(at)
    except OverflowError:  # "9999-12-31T23:59-23:59" lies past the last representable instant
        raise ValidationFailed(
            {"captured_at": "The time the report was written is not valid."}
        ) from None
    if at < _dosed_at(dosing) or at > now() + CLOCK_SKEW:
        raise ValidationFailed({"captured_at": "The time the report was written is not valid."})
    return min(max(at, due), now())


def _submission_id(value: object) -> str:
    if not isinstance(value, str) or not SUBMISSION_ID.fullmatch(value):
        raise ValidationFailed({"form": "Something went wrong sending this. Please try again."})
    return value


def _facts(report: SymptomReport, answers: dict[str, int], hours: float) -> Facts:
    return Facts(
        "symptoms",
        answers,
        hours_after_dosing=hours,
        systolic=report.systolic,
        diastolic=report.diastolic,
        pulse=report.pulse,
    )


# --- Saving and sending -------------------------------------------------------------------------


def save_report_answer(
    *,
    session: Session,
    actor: Actor,
    dosing_session_id: object,
    offset_minutes: object,
    field: object,
    value: object,
) -> SymptomReportView:
    """Save one answer, reading or the note to the draft, and run the safety rules on it."""
    client, dosing, offset = _target(
        session, actor, dosing_session_id, offset_minutes, "symptom_report_saved"
    )
    name = field if isinstance(field, str) else ""
    existing = _report(session, dosing.id or 0, offset)
    if existing is not None and existing.status == SUBMITTED:
        raise ValidationFailed({"form": "You have already sent this report. Thank you."})
    if name in ITEM_KEYS:
        parsed: object = _severity(name, value)
    elif name in VITALS:
        parsed = _vital(name, value)
    elif name == "note":
        parsed = _note(value)
    else:
        raise ValidationFailed({"form": "That is not part of this report."})
    report = _ensure_report(session, client, dosing, offset)
    answers = _answers(report)
    if name in ITEM_KEYS:
        answers[name] = parsed  # type: ignore[assignment]
        report.answers = json.dumps(answers, sort_keys=True)
    else:
        setattr(report, name, parsed)
    report.updated_at = now()
    session.add(report)
    session.flush()
    safety.apply(
        session,
        client=client,
        facts=_facts(report, answers, _hours(dosing, now())),
        source_kind=REPORT_KIND,
        source_id=report.id or 0,
    )
    return _view(session, client, dosing, offset, report)


def _result(report: SymptomReport, *, replayed: bool) -> ReportResult:
    return ReportResult(
        report_id=report.id or 0,
        tier="" if report.triage == "none" else report.triage,
        follow_cssrs=_answers(report).get("self_harm", 0) > 0,
        replayed=replayed,
    )


def _replay(session: Session, client: User, sid: str, report: SymptomReport) -> ReportResult | None:
    receipt = session.exec(
        select(SubmissionReceipt).where(
            SubmissionReceipt.client_id == client.id, SubmissionReceipt.submission_id == sid
        )
    ).first()
    if receipt is None:
        return None
    if receipt.kind != REPORT_KIND or receipt.record_id != report.id:
        raise ValidationFailed({"form": "Something went wrong sending this. Please try again."})
    return _result(report, replayed=True)


def submit_report(
    *,
    session: Session,
    actor: Actor,
    dosing_session_id: object,
    offset_minutes: object,
    submission_id: object,
    answers: object = None,
    systolic: object = None,
    diastolic: object = None,
    pulse: object = None,
    note: object = "",
    captured_at: object = None,
) -> ReportResult:
    """Send the report (the stored draft when ``answers`` is None). Idempotent per submission
    id; graded, triaged and its alert raised in this same transaction."""
    client, dosing, offset = _target(
        session, actor, dosing_session_id, offset_minutes, "symptom_report_submitted"
    )
    sid = _submission_id(submission_id)
    report = _ensure_report(session, client, dosing, offset)  # locked: one submit at a time
    replay = _replay(session, client, sid, report)
    if replay is not None:
        return replay
    if report.status == SUBMITTED:
        raise ValidationFailed({"form": "You have already sent this report. Thank you."})
    if answers is None:
        answers, note = _answers(report), report.note
        systolic, diastolic, pulse = report.systolic, report.diastolic, report.pulse
    clean, readings, text = _checked(answers, systolic, diastolic, pulse, note)
    at = _captured(captured_at, dosing, as_utc(report.due_at))
    graded = grades(clean)
    report.answers = json.dumps(clean, sort_keys=True)
    report.grades = json.dumps(graded, sort_keys=True)
    report.max_grade = max(graded.values(), default=0)
    report.systolic, report.diastolic = readings["systolic"], readings["diastolic"]
    report.pulse, report.note = readings["pulse"], text
    report.status, report.captured_at, report.submitted_at = SUBMITTED, at, now()
    report.updated_at = now()
    triage, _ = safety.apply(
        session,
        client=client,
        facts=_facts(report, clean, _hours(dosing, at)),
        source_kind=REPORT_KIND,
        source_id=report.id or 0,
    )
    report.triage = str(triage.tier) if triage.tier is not None else "none"
    session.add(report)
    session.add(
        SubmissionReceipt(
            client_id=client.id or 0, submission_id=sid, kind=REPORT_KIND, record_id=report.id or 0
        )
    )
    session.flush()
    audit.record(
        session,
        action="symptom_report_submitted",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        target=f"symptom_report:{report.id}",
        ip=actor.ip,
    )
    return _result(report, replayed=False)


# --- For Today and for the care team ------------------------------------------------------------


def _open(
    session: Session, client: User, at: datetime, ahead: timedelta = timedelta(0)
) -> list[tuple[DosingSession, int, datetime, datetime, SymptomReport | None]]:
    """(session, offset, due, until, draft) of each report not yet sent that is open at ``at`` or
    opens within ``ahead`` of it: open from its due time until the next one is due (the last
    for 7 days)."""
    offsets = _offsets(session, client.clinic_id)
    if not offsets:
        return []
    horizon = timedelta(minutes=offsets[-1]) + LAST_WINDOW
    sessions = session.exec(
        select(DosingSession)
        .where(
            DosingSession.client_id == client.id,
            DosingSession.status == DosingStatus.COMPLETED,
            DosingSession.scheduled_at >= at - horizon,
            DosingSession.scheduled_at <= at + ahead,
        )
        .order_by(DosingSession.scheduled_at)
    ).all()
    if not sessions:
        return []
    reports = {
        (r.dosing_session_id, r.offset_minutes): r
        for r in session.exec(
            select(SymptomReport).where(
                SymptomReport.dosing_session_id.in_([s.id for s in sessions])
            )
        ).all()
    }
    found = []
    for dosing in sessions:
        dosed = _dosed_at(dosing)
        for i, offset in enumerate(offsets):
            due = dosed + timedelta(minutes=offset)
            until = (
                dosed + timedelta(minutes=offsets[i + 1])
                if i + 1 < len(offsets)
                else due + LAST_WINDOW
            )
            report = reports.get((dosing.id, offset))
            sent = report is not None and report.status == SUBMITTED
            if sent or not due <= at + ahead or at >= until:
                continue
            found.append((dosing, offset, due, until, report))
    return found


def _todo_title(offset: int, dosing: DosingSession) -> str:
    return f"How are you feeling? ({offset_label(offset)} after session {dosing.number})"


def todos(session: Session, client: User, at: datetime) -> list[TodoItem]:
    """Reports due now and not yet sent: each from its due time until the next one is due
    (the last for 7 days)."""
    return [
        TodoItem(
            key=f"report-{dosing.id}-{offset}",
            title=_todo_title(offset, dosing),
            detail="Started: pick up where you left off"
            if draft is not None
            else f"About {SYMPTOMS.minutes} minutes",
            href=report_url(dosing.id or 0, offset),
            icon="activity",
            urgent=False,
        )
        for dosing, offset, _, _, draft in _open(session, client, at)
    ]


# --- For the offline page (kapjourney/http/offline.py) ------------------------------------------

OFFLINE_AHEAD = timedelta(days=7)  # a phone offline for a week still has the reports it needs


@dataclass(frozen=True)
class OpenFollowUp:
    """A report not yet sent that is open now or opens within the look-ahead."""

    dosing_session_id: int
    offset_minutes: int
    title: str  # as on Today: "How are you feeling? (24 hours after session 3)"
    dosed_at: datetime
    due_at: datetime
    closes_at: datetime


def open_followups(*, session: Session, actor: Actor) -> list[OpenFollowUp]:
    """The signed-in client's reports that are due now or fall due within a week, for the
    offline page to carry (a clinician or admin has none)."""
    client = session.get(User, actor.user_id) if actor.is_client else None
    if client is None:
        return []
    at = now()
    return [
        OpenFollowUp(
            dosing_session_id=dosing.id or 0,
            offset_minutes=offset,
            title=_todo_title(offset, dosing),
            dosed_at=_dosed_at(dosing),
            due_at=due,
            closes_at=until,
        )
        for dosing, offset, due, until, _ in _open(session, client, at, OFFLINE_AHEAD)
    ]


def _row(report: SymptomReport, dosing: DosingSession | None, tz: str) -> SymptomReportRow:
    answers = _answers(report)
    present = [
        f"{ITEM_TEXT[key]}: {GRADE_LABELS[grade(answers[key])]}"
        for key in ITEM_KEYS
        if answers.get(key, 0) > 0
    ]
    vitals = []
    if report.systolic is not None and report.diastolic is not None:
        vitals.append(f"{report.systolic}/{report.diastolic}")
    elif report.systolic is not None or report.diastolic is not None:
        vitals.append(f"{_text(report.systolic) or '?'}/{_text(report.diastolic) or '?'}")
    if report.pulse is not None:
        vitals.append(f"pulse {report.pulse}")
    sent = report.status == SUBMITTED
    max_grade = report.max_grade if sent else max(grades(answers).values(), default=0)
    return SymptomReportRow(
        report_id=report.id or 0,
        date=when(report.submitted_at or report.updated_at, tz),
        session_number=dosing.number if dosing else 0,
        offset_label=offset_label(report.offset_minutes),
        status="Sent" if sent else "Not sent yet",
        max_grade=max_grade,
        max_grade_label=GRADE_LABELS.get(max_grade, ""),
        triage=report.triage if sent else "none",
        present=present,
        vitals=", ".join(vitals),
        note=report.note,
    )


def list_reports(*, session: Session, actor: Actor, client_id: object) -> list[SymptomReportRow]:
    """A client's symptom reports for their care team, newest first (drafts with answers too:
    a worrying answer can come from a report that was never sent)."""
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="symptom_reports_viewed"
    )
    reports = session.exec(
        select(SymptomReport)
        .where(SymptomReport.client_id == client.id)
        .order_by(SymptomReport.due_at.desc(), SymptomReport.id.desc())
    ).all()
    ids = {r.dosing_session_id for r in reports}
    dosings = {
        d.id: d for d in session.exec(select(DosingSession).where(DosingSession.id.in_(ids))).all()
    }
    return [
        _row(r, dosings.get(r.dosing_session_id), actor.timezone)
        for r in reports
        if r.status == SUBMITTED
        or _answers(r)
        or r.note
        or any(v is not None for v in (r.systolic, r.diastolic, r.pulse))
    ]

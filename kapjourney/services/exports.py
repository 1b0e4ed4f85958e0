"""Exports of a client's records: who may export, the audit, and the CSV rows.

An export is authorized and audited first, in its own unit of work ("export_csv",
"export_fhir", "export_pdf", naming the client, never the content); the content is read after,
one client per short read-only session, so a clinic export streams client by client and never
holds the clinic in memory. A client may export their own records; the clinic CSV is staff only
(a clinician's assigned clients, an admin's whole clinic).

Every CSV cell is text: a cell that begins with = + - @, a tab or a carriage return is prefixed
with a single quote, so a spreadsheet never runs it as a formula (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from kapjourney.clock import as_utc
from kapjourney.db import session_scope
from kapjourney.domain.enums import ResponseStatus, ValueKind
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ChecklistItem,
    Clinic,
    ConsentSignature,
    ConsentWithdrawal,
    Course,
    DosingSession,
    ExerciseAssignment,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.domain.schemas import Actor
from kapjourney.services import audit
from kapjourney.services.checklists import vitals_of
from kapjourney.services.clients import deny, load_client, visible_clients_query

FORMATS = ("csv", "fhir", "pdf")
HEADER = (
    "kind",
    "local_time",
    "record_id",
    "instrument",
    "score",
    "band",
    "mood",
    "anxiety",
    "sleep",
    "energy",
    "systolic",
    "diastolic",
    "pulse",
    "grade",
    "status",
    "detail",
    "note",
)
CLINIC_HEADER = ("client_id", "client_name", *HEADER)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportSubject:
    """The client an authorized export is about (no health data)."""

    client_id: int
    name: str
    timezone: str


@dataclass
class ClientRecords:
    """Everything a client recorded, read in one session and used only inside it."""

    client: User
    clinic: Clinic | None
    course: Course | None
    signatures: list[ConsentSignature]
    withdrawals: dict[int, ConsentWithdrawal]
    responses: list[QuestionnaireResponse]
    checkins: list[CheckIn]
    reports: list[SymptomReport]
    vitals: list[ChecklistItem]
    sessions: list[DosingSession]
    alerts: list[Alert]
    exercises: list[ExerciseAssignment] = field(default_factory=list)


# --- Authorization and audit ---------------------------------------------------------------------


def authorize_client_export(
    *, session: Session, actor: Actor, client_id: object, fmt: str
) -> ExportSubject:
    """The client ``actor`` may export (themself, or one in their care); audited either way.

    Anyone else gets ``AccessDenied`` (seen as not found; the unit of work audits the denial).
    """
    if fmt not in FORMATS:
        raise deny(actor, "export")
    action = f"export_{fmt}"
    client = load_client(session, actor=actor, client_id=client_id, purpose=action)
    if actor.user_id == client.id:  # staff reads were audited by load_client
        audit.record(
            session, action=action, actor_id=actor.user_id, subject_client_id=client.id, ip=actor.ip
        )
    return ExportSubject(client.id or 0, client.display_name, client.timezone)


def authorize_clinic_export(*, session: Session, actor: Actor) -> list[ExportSubject]:
    """The clients in the staff member's reach, each export audited by name; clients denied."""
    if not actor.is_staff:
        raise deny(actor, "export_csv")
    clients = session.exec(visible_clients_query(actor).order_by(User.display_name, User.id)).all()
    audit.record(
        session,
        action="export_csv",
        actor_id=actor.user_id,
        target="clinic",
        ip=actor.ip,
        detail=f"clients={len(clients)}",
    )
    for client in clients:
        audit.record(
            session,
            action="export_csv",
            actor_id=actor.user_id,
            subject_client_id=client.id,
            target="clinic",
            ip=actor.ip,
        )
    return [ExportSubject(c.id or 0, c.display_name, c.timezone) for c in clients]


# --- Reading -------------------------------------------------------------------------------------


def _all(session: Session, model, *where, order=None) -> list:
    query = select(model).where(*where)
    return list(session.exec(query.order_by(order if order is not None else model.id)).all())


def load_records(session: Session, client_id: int) -> ClientRecords:
    """Read a client's records. Call only with an id an ``authorize_*`` function returned."""
    client = session.get(User, client_id)
    if client is None:
        raise LookupError("export subject vanished")
    signatures = _all(session, ConsentSignature, ConsentSignature.client_id == client_id)
    withdrawals = _all(session, ConsentWithdrawal, ConsentWithdrawal.client_id == client_id)
    bp_items = _all(
        session,
        ChecklistItem,
        ChecklistItem.client_id == client_id,
        ChecklistItem.value_kind == ValueKind.BLOOD_PRESSURE,
        ChecklistItem.done_at.is_not(None),
    )
    return ClientRecords(
        client=client,
        clinic=session.get(Clinic, client.clinic_id),
        course=session.exec(
            select(Course).where(Course.client_id == client_id).order_by(Course.created_at.desc())
        ).first(),
        signatures=signatures,
        withdrawals={w.signature_id: w for w in withdrawals},
        responses=_all(
            session,
            QuestionnaireResponse,
            QuestionnaireResponse.client_id == client_id,
            QuestionnaireResponse.status == ResponseStatus.SUBMITTED,
            QuestionnaireResponse.submitted_at.is_not(None),
            order=QuestionnaireResponse.submitted_at,
        ),
        checkins=_all(
            session,
            CheckIn,
            CheckIn.client_id == client_id,
            CheckIn.status == "submitted",
            order=CheckIn.local_date,
        ),
        reports=_all(
            session,
            SymptomReport,
            SymptomReport.client_id == client_id,
            SymptomReport.status == "submitted",
        ),
        vitals=[i for i in bp_items if vitals_of(i) is not None],
        sessions=_all(
            session,
            DosingSession,
            DosingSession.client_id == client_id,
            order=DosingSession.scheduled_at,
        ),
        alerts=_all(session, Alert, Alert.client_id == client_id),
        exercises=_all(
            session,
            ExerciseAssignment,
            ExerciseAssignment.client_id == client_id,
            ExerciseAssignment.status == "completed",
        ),
    )


def recorded_at(row: CheckIn | SymptomReport) -> datetime:
    """When a check-in or report was made: its capture time (offline), else its submission."""
    at = row.captured_at or row.submitted_at or row.updated_at
    return as_utc(at)


def grades_of(report: SymptomReport) -> dict[str, int]:
    try:
        data = json.loads(report.grades or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if type(v) is int}


def _json_list(value: str) -> list:
    try:
        data = json.loads(value or "[]")
    except ValueError:
        return []
    return data if isinstance(data, list) else []


# --- CSV -----------------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """One CSV cell as inert text (None is empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local(at: datetime | None, tz: str) -> str:
    if at is None:
        return ""
    return as_utc(at).astimezone(ZoneInfo(tz)).isoformat(timespec="minutes")


def _row(kind: str, at: datetime | None, record_id: int | None, **cells: object) -> dict:
    return {"kind": kind, "at": as_utc(at) if at else None, "record_id": record_id, **cells}


def _records(r: ClientRecords) -> list[dict]:
    rows = []
    for s in r.signatures:
        withdrawn = r.withdrawals.get(s.id or 0)
        rows.append(
            _row(
                "consent",
                s.signed_at,
                s.id,
                instrument=f"consent v{s.document_version}",
                status="withdrawn" if withdrawn else "signed",
                detail=f"sha256 {s.document_sha256}",
                note=s.signed_name,
            )
        )
    for q in r.responses:
        flags = _json_list(q.flags)
        rows.append(
            _row(
                "questionnaire",
                q.submitted_at,
                q.id,
                instrument=q.instrument,
                score=q.score,
                band=q.band,
                status=q.purpose,
                detail=";".join(str(f) for f in flags),
            )
        )
    for c in r.checkins:
        rows.append(
            _row(
                "checkin",
                recorded_at(c),
                c.id,
                mood=c.mood,
                anxiety=c.anxiety,
                sleep=c.sleep,
                energy=c.energy,
                status="late" if c.late else "on time",
                detail=f"day {c.local_date.isoformat()}",
                note=c.note,
            )
        )
    for p in r.reports:
        graded = ";".join(f"{k}:{v}" for k, v in grades_of(p).items() if v > 0)
        rows.append(
            _row(
                "symptom_report",
                recorded_at(p),
                p.id,
                systolic=p.systolic,
                diastolic=p.diastolic,
                pulse=p.pulse,
                grade=p.max_grade,
                status=p.triage,
                detail=f"session {p.dosing_session_id} +{p.offset_minutes} min; {graded}",
                note=p.note,
            )
        )
    for item in r.vitals:
        v = vitals_of(item)
        rows.append(
            _row(
                "vitals",
                item.done_at,
                item.id,
                systolic=v.systolic if v else None,
                diastolic=v.diastolic if v else None,
                pulse=v.pulse if v else None,
                status="before session",
                detail=f"session {item.dosing_session_id}",
            )
        )
    for d in r.sessions:
        rows.append(
            _row(
                "dosing_session",
                d.scheduled_at,
                d.id,
                instrument=f"session {d.number}",
                status=d.status,
                detail=f"{d.route}; {d.setting}",
                note=d.cancel_reason,
            )
        )
    for a in r.alerts:
        rows.append(
            _row(
                "alert",
                a.created_at,
                a.id,
                instrument=a.reason_code,
                band=a.severity,
                status=a.status,
                detail=f"{a.source_kind} {a.source_id}",
                note=a.resolution_note,
            )
        )
    for e in r.exercises:
        rows.append(
            _row(
                "exercise",
                e.completed_at,
                e.id,
                instrument=e.exercise,
                status=e.status,
                note=e.response,
            )
        )
    return rows


def client_rows(records: ClientRecords) -> list[list[str]]:
    """One escaped row per record, oldest first, times in the client's own zone."""
    tz = records.client.timezone
    rows = sorted(_records(records), key=lambda r: (r["at"] is None, r["at"] or 0, r["kind"]))
    out = []
    for row in rows:
        cells = {**row, "local_time": _local(row["at"], tz)}
        out.append([safe_cell(cells.get(name)) for name in HEADER])
    return out


def _line(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def csv_lines(
    subjects: list[ExportSubject], *, clinic: bool, engine: Engine | None = None
) -> Iterator[str]:
    """The CSV, line by line: the header, then each subject's rows read in a short session of
    its own (nothing held open between yields, and one client in memory at a time)."""
    yield _line(CLINIC_HEADER if clinic else HEADER)
    for subject in subjects:
        with session_scope(engine) as session:
            rows = client_rows(load_records(session, subject.client_id))
        prefix = [safe_cell(subject.client_id), safe_cell(subject.name)] if clinic else []
        for row in rows:
            yield _line(prefix + row)

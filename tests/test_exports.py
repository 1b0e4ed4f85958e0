"""Exports (issue 6, item 4): the CSV, the FHIR R4 Bundle, the course summary PDF, their routes,
who may download them, and the audit of every export.

The Bundle is validated with the ``fhir.resources`` R4B models (R4B = R4 plus technical
corrections; Patient, Consent, QuestionnaireResponse, Observation and AdverseEvent have the same
structure in R4 and R4B, and ``fhir.resources`` 8 ships R5 as default, R4B and STU3 only).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from pypdf import PdfReader
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.enums import DosingStatus, ValueKind
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ChecklistItem,
    Course,
    ExerciseAssignment,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.domain.safety import grades
from kapjourney.http.app import create_api
from kapjourney.routes import EXPORT_CLINIC_CSV, export_urls
from kapjourney.services import exports
from kapjourney.services.export_fhir import fhir_bundle
from kapjourney.services.export_pdf import course_summary_pdf
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings
from tests.conftest import PASSWORD
from tests.history_support import dosing_session, response
from tests.journey_support import sign_consent
from tests.support import audit_events
from tests.two_factor_support import complete_two_factor

with warnings.catch_warnings():  # as in test_http_auth: starlette asks for httpx2 at import
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

LINK = '=HYPERLINK("http://evil.example","click")'
HOSTILE_NOTES = (LINK, "+1 and more", "-2", "@SUM(A1:A9)", "<script>alert(1)</script> & <b>x</b>")
HOSTILE_NAME = "Ada <script>alert(1)</script> & <b>Lovelace</b>"
FORMULA_NAME = '=HYPERLINK("http://evil.example")'
DAY = datetime(2030, 1, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
SESSION_AT = DAY + timedelta(days=3)
NOW = DAY + timedelta(days=8)  # 2030-01-10, 10:00 in New York
EMAILS = {
    "client": "ada@test.example",
    "clinician": "cleo@test.example",
    "other_clinician": "uma@test.example",
    "other_client": "otto@test.example",
    "admin": "ari@test.example",
    "foreign_admin": "zed@test.example",
}


def _answers(values: list[int]) -> str:
    return json.dumps({f"q{n}": v for n, v in enumerate(values, 1)})


def _response(client, instrument, at, answers, score, band="") -> QuestionnaireResponse:
    return response(
        client, instrument, at, purpose="scheduled", answers=answers, score=score, band=band
    )


def _history(s, client: User, staff: User, notes=HOSTILE_NOTES) -> None:
    """A course with one completed session, scores either side, check-ins with hostile notes,
    a graded symptom report, a blood pressure step, an alert and a completed exercise."""
    course = s.exec(select(Course).where(Course.client_id == client.id)).one()
    course.start_date = date(2030, 1, 1)
    s.add(course)
    dosing = dosing_session(s, client, course, 1, SESSION_AT, status=DosingStatus.COMPLETED)
    after = SESSION_AT + timedelta(days=2)
    s.add_all(
        [
            _response(client, "phq9", DAY, _answers([3, 3, 3, 3, 2, 2, 2, 1, 1]), 20, "Severe"),
            _response(client, "gad7", DAY, _answers([2, 2, 2, 2, 2, 1, 1]), 12, "Moderate"),
            _response(client, "phq9", after, _answers([1, 1, 1, 1, 0, 0, 0, 0, 0]), 4, "Minimal"),
            _response(client, "gad7", after, _answers([2, 1, 1, 1, 1, 1, 1]), 8, "Mild"),
            _response(client, "pcl5", after, _answers([2] * 20), 40),
            _response(client, "cssrs", after, json.dumps({"q1": 0, "q2": 0, "q6": 0}), None),
            _response(client, "intake", DAY, json.dumps({"pregnancy": 0, "medicines": LINK}), None),
        ]
    )
    for n, note in enumerate(notes):
        s.add(
            CheckIn(
                client_id=client.id,
                clinic_id=client.clinic_id,
                local_date=date(2030, 1, 2 + n),
                status="submitted",
                mood=3,
                anxiety=2,
                sleep=4,
                energy=3,
                note=note,
                submitted_at=DAY + timedelta(days=n),
            )
        )
    s.add(
        SymptomReport(
            client_id=client.id,
            clinic_id=client.clinic_id,
            dosing_session_id=dosing.id,
            offset_minutes=120,
            due_at=SESSION_AT + timedelta(hours=2),
            status="submitted",
            answers=json.dumps({"nausea": 2, "headache": 1}),
            systolic=150,
            diastolic=95,
            pulse=88,
            note="-2 then " + LINK,
            max_grade=2,
            grades=json.dumps(grades({"nausea": 2, "headache": 1})),
            triage="routine",
            submitted_at=SESSION_AT + timedelta(hours=2, minutes=5),
        )
    )
    s.add(
        ChecklistItem(
            dosing_session_id=dosing.id,
            client_id=client.id,
            key="bp",
            label="Blood pressure",
            due_at=SESSION_AT - timedelta(hours=1),
            value_kind=ValueKind.BLOOD_PRESSURE,
            value=json.dumps({"systolic": "128", "diastolic": "82", "pulse": "71"}),
            done_at=SESSION_AT - timedelta(minutes=50),
        )
    )
    s.add(
        Alert(
            clinic_id=client.clinic_id,
            client_id=client.id,
            severity="urgent",
            reason_code="symptom_grade",
            source_kind="symptom_report",
            source_id=1,
            created_at=SESSION_AT + timedelta(hours=2, minutes=5),
        )
    )
    s.add(
        ExerciseAssignment(
            client_id=client.id,
            clinic_id=client.clinic_id,
            dosing_session_id=dosing.id,
            exercise="journal",
            due_date=date(2030, 1, 7),
            status="completed",
            response="@SUM(1+1) what I noticed",
            assigned_by_id=staff.id,
            completed_at=after,
        )
    )


@pytest.fixture
def history(engine, personas):
    sign_consent(personas.actor("client"))
    with db.session_scope(engine) as s:
        client = s.get(User, personas.client.id)
        client.display_name = HOSTILE_NAME
        s.add(client)
        _history(s, client, personas.clinician)
        other = s.get(User, personas.other_client.id)
        other.display_name = FORMULA_NAME
        s.add(other)
        _history(s, other, personas.other_clinician, notes=("Otto's own note",))
    return personas


def _subject(personas, who: str = "client", fmt: str = "csv", target: str = "client"):
    with unit_of_work() as s:
        return exports.authorize_client_export(
            session=s,
            actor=personas.actor(who),
            client_id=getattr(personas, target).id,
            fmt=fmt,
        )


def _read(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


# --- CSV: cells, columns, rows -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("<script>", "<script>"),
        (None, ""),
        (7, "7"),
    ],
)
def test_a_cell_that_could_be_a_formula_is_quoted_as_text(value, expected):
    assert exports.safe_cell(value) == expected


def test_the_client_csv_has_the_columns_and_one_row_per_record(engine, history):
    rows = _read(exports.csv_lines([_subject(history)], clinic=False))
    assert tuple(rows[0]) == exports.HEADER
    kinds = Counter(row[0] for row in rows[1:])
    assert kinds == {
        "consent": 1,
        "questionnaire": 7,
        "checkin": 5,
        "symptom_report": 1,
        "vitals": 1,
        "dosing_session": 1,
        "alert": 1,
        "exercise": 1,
    }
    times = [row[1] for row in rows[1:]]
    first_checkin = next(r for r in rows if r[0] == "checkin")
    assert first_checkin[1] == "2030-01-02T10:00-05:00"  # the client's zone, New York
    assert times[1:] != [] and sorted(times[1:]) == times[1:]  # oldest first (one zone)


def test_hostile_text_reaches_the_csv_as_inert_text(engine, history):
    rows = _read(exports.csv_lines([_subject(history)], clinic=False))
    note = exports.HEADER.index("note")
    checkin_notes = [row[note] for row in rows if row[0] == "checkin"]
    assert checkin_notes == [
        "'" + LINK,
        "'+1 and more",
        "'-2",
        "'@SUM(A1:A9)",
        "<script>alert(1)</script> & <b>x</b>",
    ]
    assert [r[note] for r in rows if r[0] == "exercise"] == ["'@SUM(1+1) what I noticed"]
    assert [r[note] for r in rows if r[0] == "symptom_report"] == ["'-2 then " + LINK]
    assert not [cell for row in rows for cell in row if cell.startswith(exports.FORMULA_STARTS)]


def test_the_clinic_csv_names_each_client_and_escapes_their_names(engine, history):
    with unit_of_work() as s:
        subjects = exports.authorize_clinic_export(session=s, actor=history.actor("admin"))
    rows = _read(exports.csv_lines(subjects, clinic=True))
    assert tuple(rows[0]) == exports.CLINIC_HEADER
    names = {(row[0], row[1]) for row in rows[1:]}
    assert names == {
        (str(history.client.id), HOSTILE_NAME),
        (str(history.other_client.id), "'" + FORMULA_NAME),
    }


def test_the_clinic_csv_reads_one_client_at_a_time(engine, history):
    """The generator reads each client when it reaches them: a note changed while the first
    client streams shows up in the second client's rows."""
    with unit_of_work() as s:
        subjects = exports.authorize_clinic_export(session=s, actor=history.actor("admin"))
    assert [x.client_id for x in subjects] == [history.other_client.id, history.client.id]
    lines = exports.csv_lines(subjects, clinic=True)
    taken = [next(lines), next(lines)]  # the header, then the first client's first row
    with db.session_scope(engine) as s:
        row = s.exec(select(CheckIn).where(CheckIn.client_id == history.client.id)).first()
        row.note = "changed while streaming"
        s.add(row)
    rows = _read([*taken, *lines])
    assert "changed while streaming" in {row[-1] for row in rows}


# --- FHIR ----------------------------------------------------------------------------------------


def _bundle(personas, who: str = "client") -> dict:
    with unit_of_work() as s:
        return fhir_bundle(session=s, actor=personas.actor(who), client_id=personas.client.id)


def test_the_bundle_validates_as_fhir_r4b_with_every_resource(engine, history):
    data = _bundle(history, "clinician")
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection"
    for entry in data["entry"]:  # and each resource against its own model, by type
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    types = Counter(e["resource"]["resourceType"] for e in data["entry"])
    # 7 questionnaires + 5 check-ins; 5 scores + 2 blood pressures + 2 pulses; 2 graded symptoms
    assert types == {
        "Patient": 1,
        "Consent": 1,
        "QuestionnaireResponse": 12,
        "Observation": 9,
        "AdverseEvent": 2,
    }
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)


def test_a_broken_resource_fails_validation(engine, history):
    """The check above can fail: the validator reads the resources inside the Bundle."""
    data = _bundle(history)
    event = next(e for e in data["entry"] if e["resource"]["resourceType"] == "AdverseEvent")
    del event["resource"]["subject"]
    with pytest.raises(ValidationError):
        Bundle.model_validate(data)


def _codes(resource: dict) -> set[str]:
    return {c["code"] for c in resource["code"]["coding"]}


def test_the_bundle_codes_scores_and_vitals_with_loinc(engine, history):
    resources = [e["resource"] for e in _bundle(history)["entry"]]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    scores = sorted(
        (next(iter(_codes(o))), o["valueInteger"]) for o in observations if "valueInteger" in o
    )
    assert scores == [
        ("44261-6", 4),
        ("44261-6", 20),
        ("70274-6", 8),
        ("70274-6", 12),
        ("pcl5-total", 40),
    ]
    panels = [o for o in observations if _codes(o) == {"85354-9"}]
    readings = sorted(tuple(c["valueQuantity"]["value"] for c in p["component"]) for p in panels)
    assert readings == [(128, 82), (150, 95)]
    assert {c["code"]["coding"][0]["code"] for c in panels[0]["component"]} == {"8480-6", "8462-4"}
    pulses = sorted(o["valueQuantity"]["value"] for o in observations if _codes(o) == {"8867-4"})
    assert pulses == [71, 88]


def test_graded_symptoms_become_adverse_events_and_text_stays_text(engine, history):
    resources = [e["resource"] for e in _bundle(history)["entry"]]
    events = {
        r["event"]["coding"][0]["code"]: r for r in resources if r["resourceType"] == "AdverseEvent"
    }
    assert set(events) == {"nausea", "headache"}
    assert events["nausea"]["severity"]["coding"][0]["code"] == "moderate"
    assert events["nausea"]["extension"][0]["valueInteger"] == 2
    assert events["headache"]["event"]["text"] == "Headache"
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient["name"] == [{"text": HOSTILE_NAME}]
    strings = [
        a["valueString"]
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
        for item in r["item"]
        for a in item["answer"]
        if "valueString" in a
    ]
    assert LINK in strings and "<script>alert(1)</script> & <b>x</b>" in strings


# --- PDF -----------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_course_summary_shows_outcomes_alerts_and_adherence(engine, history):
    with time_machine.travel(NOW, tick=False), unit_of_work() as s:
        filename, data = course_summary_pdf(
            session=s, actor=history.actor("clinician"), client_id=history.client.id
        )
    assert filename == f"course-summary-{history.client.id}.pdf"
    text = _pdf_text(data)
    assert HOSTILE_NAME in text  # markup printed as text, not parsed
    assert "Test Clinic" in text
    assert "20 to 4 (response, remission)" in text
    assert "12 to 8" in text and "12 to 8 (" not in text
    assert "1 in all (0 emergency, 1 urgent, 0 routine); 1 still open." in text
    assert "Checked in on 5 of 10 days of the course (50%)." in text


# --- HTTP ----------------------------------------------------------------------------------------


@pytest.fixture
def web(engine, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", public_url="http://testserver")
    with TestClient(create_api(settings), raise_server_exceptions=False) as client:
        yield client


def _sign_in(web, who: str) -> None:
    response = web.post("/auth/signin", json={"email": EMAILS[who], "password": PASSWORD})
    assert response.status_code == 200, response.text
    complete_two_factor(web, response)  # staff: the second factor (issue 7)


def _client_routes(personas, target: str = "client") -> list[str]:
    return list(export_urls(getattr(personas, target).id).values())


def test_the_client_csv_streams_as_an_uncached_attachment(engine, history, web):
    _sign_in(web, "clinician")
    with web.stream("GET", export_urls(history.client.id)["csv"]) as response:
        assert response.status_code == 200
        chunks = [chunk for chunk in response.iter_text() if chunk]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="client-{history.client.id}-records.csv"'
    )
    assert "content-length" not in response.headers  # a StreamingResponse, not a built body
    rows = _read(chunks)
    assert tuple(rows[0]) == exports.HEADER and len(rows) == 1 + 18


def test_the_fhir_and_pdf_routes_answer_with_their_types(engine, history, web):
    _sign_in(web, "client")
    urls = export_urls(history.client.id)
    fhir = web.get(urls["fhir"])
    assert fhir.status_code == 200
    assert fhir.headers["content-type"] == "application/fhir+json"
    assert fhir.headers["cache-control"] == "no-store"
    Bundle.model_validate(fhir.json())
    pdf = web.get(urls["pdf"])
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert HOSTILE_NAME in _pdf_text(pdf.content)


def test_signed_out_requests_get_401(engine, history, web):
    for url in [*_client_routes(history), EXPORT_CLINIC_CSV]:
        response = web.get(url)
        assert response.status_code == 401, url
        assert "Ada" not in response.text


ALLOWED = {"client", "clinician", "admin"}


@pytest.mark.parametrize(
    "who", ["client", "clinician", "other_clinician", "other_client", "admin", "foreign_admin"]
)
def test_only_the_client_and_her_care_team_export_her_records(engine, history, web, who):
    _sign_in(web, who)
    for url in _client_routes(history):
        response = web.get(url)
        expected = 200 if who in ALLOWED else 404
        assert response.status_code == expected, (who, url)
        if expected == 404:
            assert response.json() == {"error": "not found"}
    formats = [e.action for e in audit_events(engine) if e.action.startswith("export_")]
    denials = audit_events(engine, "access_denied")
    if who in ALLOWED:
        assert formats == ["export_csv", "export_fhir", "export_pdf"]
        assert denials == []
    else:
        assert formats == []
        assert [(d.actor_id, d.target) for d in denials] == [
            (getattr(history, who).id, f"export_{fmt}") for fmt in ("csv", "fhir", "pdf")
        ]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", ["client"]),
        ("other_clinician", ["other_client"]),
        ("admin", ["client", "other_client"]),
        ("foreign_admin", []),
    ],
)
def test_the_clinic_csv_holds_exactly_the_clients_in_reach(engine, history, web, who, expected):
    _sign_in(web, who)
    response = web.get(EXPORT_CLINIC_CSV)
    assert response.status_code == 200
    rows = _read([response.text])
    assert tuple(rows[0]) == exports.CLINIC_HEADER
    ids = {int(row[0]) for row in rows[1:]}
    assert ids == {getattr(history, name).id for name in expected}
    named = [e.subject_client_id for e in audit_events(engine, "export_csv")]
    assert sorted(filter(None, named)) == sorted(getattr(history, n).id for n in expected)
    [clinic_event] = [e for e in audit_events(engine, "export_csv") if e.subject_client_id is None]
    assert (clinic_event.actor_id, clinic_event.detail) == (
        getattr(history, who).id,
        f"clients={len(expected)}",
    )


@pytest.mark.parametrize("who", ["client", "other_client"])
def test_a_client_cannot_export_the_clinic(engine, history, web, who):
    _sign_in(web, who)
    response = web.get(EXPORT_CLINIC_CSV)
    assert response.status_code == 404
    [denial] = audit_events(engine, "access_denied")
    assert (denial.actor_id, denial.target) == (getattr(history, who).id, "export_csv")


@pytest.mark.parametrize("bad", ["0", "987654", "abc", "-1", "1e3", "%00"])
def test_unknown_or_malformed_client_ids_are_not_found(engine, history, web, bad):
    _sign_in(web, "admin")
    assert web.get(f"/api/export/client/{bad}.csv").status_code == 404
    assert web.get(f"/api/export/client/{bad}/fhir.json").status_code == 404


@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_every_export_is_audited_naming_the_client_not_the_content(engine, history, who):
    _subject(history, who, "csv")
    _bundle(history, who)
    with unit_of_work() as s:
        course_summary_pdf(session=s, actor=history.actor(who), client_id=history.client.id)
    events = [e for e in audit_events(engine) if e.action.startswith("export_")]
    assert [(e.action, e.actor_id, e.subject_client_id) for e in events] == [
        (f"export_{fmt}", getattr(history, who).id, history.client.id)
        for fmt in ("csv", "fhir", "pdf")
    ]
    for event in events:
        assert "HYPERLINK" not in event.detail + event.target

"""A client's records as a FHIR R4 Bundle (type "collection"), built as plain dicts.

Patient; a Consent per signature; a QuestionnaireResponse per submitted questionnaire and per
check-in; an Observation per questionnaire total score (LOINC where a code exists), per blood
pressure reading (85354-9 panel, 8480-6 / 8462-4 components) and per pulse (8867-4); an
AdverseEvent per graded post-session symptom. Entries reference each other by ``urn:uuid``
full URLs derived from the record ids, so the same record always has the same URL.
The tests validate the result with the ``fhir.resources`` R4B models (R4B is R4 plus
corrections; every resource type used here has the same structure in both).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from kapjourney.clock import as_utc, now
from kapjourney.domain.instruments import INSTRUMENTS
from kapjourney.domain.models import ChecklistItem, QuestionnaireResponse, SymptomReport
from kapjourney.domain.safety import GRADE_LABELS, SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.services.checklists import vitals_of
from kapjourney.services.exports import (
    ClientRecords,
    authorize_client_export,
    grades_of,
    load_records,
    recorded_at,
)

NS = uuid.UUID("6f1c8a52-0d7e-4f3e-9a51-7c2b1d9e4a10")  # KAP Journey's namespace for urn:uuid
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LOCAL = "urn:kapjourney"  # identifiers and codes that have no standard system
SCORE_CODES = {
    "phq9": (LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    "gad7": (LOINC, "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
}
QUESTIONNAIRES = {  # the LOINC panels of the published forms; others are local
    "phq9": "http://loinc.org/q/44249-1",
    "gad7": "http://loinc.org/q/69737-5",
}
AE_SEVERITY = {1: "mild", 2: "moderate", 3: "severe"}
ITEM_TEXT = dict(SYMPTOM_ITEMS)
CHECKIN_ITEMS = (("mood", "Mood"), ("anxiety", "Anxiety"), ("sleep", "Sleep"), ("energy", "Energy"))


def _urn(kind: str, record_id: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NS, f'{kind}:{record_id}')}"


def _ts(at: datetime | None) -> str | None:
    return as_utc(at).isoformat(timespec="seconds") if at else None


def _ref(url: str) -> dict[str, str]:
    return {"reference": url}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _mmhg(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}


def _patient(r: ClientRecords) -> dict[str, Any]:
    c = r.client
    return {
        "resourceType": "Patient",
        "identifier": [{"system": f"{LOCAL}:client", "value": str(c.id)}],
        "active": c.is_active,
        "name": [{"text": c.display_name}],
        "telecom": [{"system": "email", "value": c.email, "use": "home"}],
    }


def _consents(r: ClientRecords, patient: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for s in r.signatures:
        withdrawn = r.withdrawals.get(s.id or 0)
        consent = {
            "resourceType": "Consent",
            "identifier": [{"system": f"{LOCAL}:consent-signature", "value": str(s.id)}],
            "status": "inactive" if withdrawn else "active",
            "scope": _concept(
                "http://terminology.hl7.org/CodeSystem/consentscope", "treatment", "Treatment"
            ),
            "category": [_concept(LOINC, "59284-0", "Patient Consent")],
            "patient": _ref(patient),
            "dateTime": _ts(s.signed_at),
            "performer": [{**_ref(patient), "display": s.signed_name}],
            "policyRule": {"text": f"Clinic consent document, version {s.document_version}"},
            "sourceAttachment": {
                "contentType": "application/pdf",
                "url": f"/api/consent/{s.id}.pdf",
                "title": f"Signed consent, version {s.document_version} "
                f"(document SHA-256 {s.document_sha256})",
                "creation": _ts(s.signed_at),
            },
        }
        out.append((_urn("consent", s.id), consent))
    return out


def _answer(instrument: str, key: str, value: object) -> dict[str, Any] | None:
    form = INSTRUMENTS.get(instrument)
    item = form.item(key) if form else None
    if item is None or value is None or value == "":
        return None
    if item.kind == "yesno" and type(value) is int:
        answer: dict[str, Any] = {"valueBoolean": value == 1}
    elif type(value) is int:
        answer = {"valueInteger": value}
    else:
        answer = {"valueString": str(value)}
    return {"linkId": key, "text": item.text, "answer": [answer]}


def _questionnaire(q: QuestionnaireResponse, patient: str) -> dict[str, Any]:
    try:
        answers = json.loads(q.answers or "{}")
    except ValueError:
        answers = {}
    items = [
        a
        for key, value in (answers.items() if isinstance(answers, dict) else ())
        if (a := _answer(q.instrument, str(key), value)) is not None
    ]
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": f"{LOCAL}:questionnaire-response", "value": str(q.id)},
        "questionnaire": QUESTIONNAIRES.get(
            q.instrument, f"{LOCAL}:questionnaire:{q.instrument}:{q.instrument_version}"
        ),
        "status": "completed",
        "subject": _ref(patient),
        "authored": _ts(q.submitted_at),
        "item": items,
    }


def _score(q: QuestionnaireResponse, patient: str, source: str) -> dict[str, Any]:
    title = INSTRUMENTS[q.instrument].title if q.instrument in INSTRUMENTS else q.instrument
    system, code, display = SCORE_CODES.get(
        q.instrument, (f"{LOCAL}:score", f"{q.instrument}-total", f"{title} total score")
    )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(OBS_CATEGORY, "survey", "Survey")],
        "code": _concept(system, code, display),
        "subject": _ref(patient),
        "effectiveDateTime": _ts(q.submitted_at),
        "valueInteger": q.score,
        "derivedFrom": [_ref(source)],
    }
    if q.band:
        observation["interpretation"] = [{"text": q.band}]
    return observation


def _checkin_response(c, patient: str) -> dict[str, Any]:
    items = [
        {"linkId": key, "text": label, "answer": [{"valueInteger": getattr(c, key)}]}
        for key, label in CHECKIN_ITEMS
        if getattr(c, key) is not None
    ]
    if c.note:
        items.append({"linkId": "note", "text": "Note", "answer": [{"valueString": c.note}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": f"{LOCAL}:checkin", "value": str(c.id)},
        "questionnaire": f"{LOCAL}:questionnaire:daily-checkin:1",
        "status": "completed",
        "subject": _ref(patient),
        "authored": _ts(recorded_at(c)),
        "item": items,
    }


def _vital_signs(
    patient: str, at: datetime | None, systolic, diastolic, pulse, key: str
) -> list[tuple[str, dict[str, Any]]]:
    base = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(OBS_CATEGORY, "vital-signs", "Vital Signs")],
        "subject": _ref(patient),
        "effectiveDateTime": _ts(at),
    }
    out = []
    if systolic is not None and diastolic is not None:
        bp = {
            **base,
            "code": _concept(LOINC, "85354-9", "Blood pressure panel with all children optional"),
            "component": [
                {
                    "code": _concept(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": _mmhg(systolic),
                },
                {
                    "code": _concept(LOINC, "8462-4", "Diastolic blood pressure"),
                    "valueQuantity": _mmhg(diastolic),
                },
            ],
        }
        out.append((_urn("bp", key), bp))
    if pulse is not None:
        heart = {
            **base,
            "code": _concept(LOINC, "8867-4", "Heart rate"),
            "valueQuantity": {
                "value": pulse,
                "unit": "beats/minute",
                "system": UCUM,
                "code": "/min",
            },
        }
        out.append((_urn("pulse", key), heart))
    return out


def _adverse_events(p: SymptomReport, patient: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, grade in grades_of(p).items():
        if grade <= 0:
            continue
        event = {
            "resourceType": "AdverseEvent",
            "extension": [
                {
                    "url": f"{LOCAL}:StructureDefinition:ctcae-like-grade",
                    "valueInteger": grade,
                }
            ],
            "identifier": {"system": f"{LOCAL}:symptom-report", "value": f"{p.id}:{key}"},
            "actuality": "actual",
            "event": {
                "coding": [{"system": f"{LOCAL}:symptom", "code": key}],
                "text": ITEM_TEXT.get(key, key),
            },
            "subject": _ref(patient),
            "date": _ts(recorded_at(p)),
            "recordedDate": _ts(p.submitted_at),
            "severity": _concept(
                "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                AE_SEVERITY.get(min(grade, 3), "severe"),
                GRADE_LABELS.get(min(grade, 3), f"Grade {grade}"),
            ),
        }
        out.append((_urn("adverse-event", f"{p.id}:{key}"), event))
    return out


def build_bundle(r: ClientRecords) -> dict[str, Any]:
    patient = _urn("patient", r.client.id)
    entries: list[tuple[str, dict[str, Any]]] = [(patient, _patient(r))]
    entries += _consents(r, patient)
    for q in r.responses:
        source = _urn("questionnaire-response", q.id)
        entries.append((source, _questionnaire(q, patient)))
        if q.score is not None:
            entries.append((_urn("score", q.id), _score(q, patient, source)))
    for c in r.checkins:
        entries.append((_urn("checkin", c.id), _checkin_response(c, patient)))
    for p in r.reports:
        entries += _vital_signs(
            patient, recorded_at(p), p.systolic, p.diastolic, p.pulse, f"report:{p.id}"
        )
        entries += _adverse_events(p, patient)
    for item in r.vitals:
        entries += _checklist_vitals(item, patient)
    return {
        "resourceType": "Bundle",
        "identifier": {"system": f"{LOCAL}:export", "value": str(uuid.uuid4())},
        "type": "collection",
        "timestamp": _ts(now()),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }


def _checklist_vitals(item: ChecklistItem, patient: str) -> list[tuple[str, dict[str, Any]]]:
    v = vitals_of(item)
    if v is None:
        return []
    return _vital_signs(
        patient, item.done_at, v.systolic, v.diastolic, v.pulse, f"checklist:{item.id}"
    )


def fhir_bundle(*, session: Session, actor: Actor, client_id: object) -> dict[str, Any]:
    """The Bundle of a client ``actor`` may export (audited as "export_fhir")."""
    subject = authorize_client_export(session=session, actor=actor, client_id=client_id, fmt="fhir")
    return build_bundle(load_records(session, subject.client_id))

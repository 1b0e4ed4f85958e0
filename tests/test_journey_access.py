"""Who may reach which journey record (consent, screening, plan, checklists, readiness, alerts,
protocol), through every service, with the standing personas.

The records all belong to Ada. Her clinician Cleo and the clinic admin Ari reach them; Uma (a
clinician of another client), Otto (another client) and Zed (the admin of another clinic) are
refused exactly as if the record did not exist, and each refusal leaves an ``access_denied``
audit row even though the work rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.errors import AccessDenied, NotFound
from kapjourney.domain.models import (
    AuditEvent,
    ConsentDocument,
    ConsentSignature,
    ConsentWithdrawal,
)
from kapjourney.domain.schemas import SessionSchedule
from kapjourney.services import (
    alerts,
    checklists,
    consent,
    consent_pdf,
    inbox,
    plan,
    protocol,
    readiness,
    screening,
)
from kapjourney.services.uow import unit_of_work
from tests.journey_support import (
    alert_ids,
    complete_screening,
    item_ids,
    local_value,
    schedule,
    sign_consent,
)
from tests.support import audit_events, count

PERSONAS = ["client", "clinician", "other_clinician", "other_client", "admin", "foreign_admin"]
STAFF = ["clinician", "other_clinician", "admin", "foreign_admin"]
OUTSIDERS = ["other_clinician", "other_client", "foreign_admin"]


@dataclass
class World:
    """Ada's records: a signature, an urgent alert, a session tomorrow and its checklist."""

    client_id: int
    signature_id: int
    alert_id: int
    dosing_session_id: int
    item_id: int
    last_audit_id: int

    def id_of(self, kind: str) -> int:
        return {
            "client": self.client_id,
            "signature": self.signature_id,
            "alert": self.alert_id,
            "dosing": self.dosing_session_id,
            "item": self.item_id,
        }[kind]


@pytest.fixture
def world(engine, personas) -> World:
    ada = personas.actor("client")
    with unit_of_work() as s:
        flow = sign_consent(ada, session=s)
        complete_screening(ada, phq9_item9=1, session=s)
        dosing_id = schedule(
            personas.actor("clinician"), personas.client.id, days_ahead=1, session=s
        )
    [alert_id] = alert_ids(personas.client.id)
    events = audit_events(engine)
    return World(
        client_id=personas.client.id,
        signature_id=flow.signature_id,
        alert_id=alert_id,
        dosing_session_id=dosing_id,
        item_id=item_ids(dosing_id)["intention"],
        last_audit_id=events[-1].id,
    )


def _new_events(engine, world: World) -> list[AuditEvent]:
    with db.session_scope(engine) as s:
        return list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.id > world.last_audit_id)
                .order_by(AuditEvent.id)
            ).all()
        )


def _tomorrow_and_a_bit() -> str:
    return local_value(now() + timedelta(days=3))


def _complete_session(s, actor, target):
    with time_machine.travel(now() + timedelta(days=2), tick=False):
        return plan.complete_session(session=s, actor=actor, dosing_session_id=target)


@dataclass(frozen=True)
class Case:
    """One service taking a record id: who may call it, and its audit purpose."""

    kind: str  # client | signature | alert | dosing | item
    clients_allowed: bool
    purpose: str
    call: Callable  # (session, actor, record id) -> result


CASES: dict[str, Case] = {
    "consent_status": Case(
        "client",
        True,
        "consent_viewed",
        lambda s, a, t: consent.consent_status(session=s, actor=a, client_id=t),
    ),
    "withdraw_consent": Case(
        "client",
        True,
        "consent_withdrawn",
        lambda s, a, t: consent.withdraw_consent(session=s, actor=a, reason="", client_id=t),
    ),
    "load_signature": Case(
        "signature",
        True,
        "consent_pdf",
        lambda s, a, t: consent.load_signature(s, actor=a, signature_id=t)[0].id,
    ),
    "consent_pdf": Case(
        "signature",
        True,
        "consent_pdf",
        lambda s, a, t: consent_pdf.consent_pdf(session=s, actor=a, signature_id=t),
    ),
    "screening_summary": Case(
        "client",
        False,
        "screening_viewed",
        lambda s, a, t: screening.screening_summary(session=s, actor=a, client_id=t),
    ),
    "review_screening": Case(
        "client",
        False,
        "screening_reviewed",
        lambda s, a, t: screening.review_screening(session=s, actor=a, client_id=t),
    ),
    "request_rescreen": Case(
        "client",
        False,
        "rescreen_requested",
        lambda s, a, t: screening.request_rescreen(session=s, actor=a, client_id=t),
    ),
    "set_pcl5": Case(
        "client",
        False,
        "pcl5_changed",
        lambda s, a, t: screening.set_pcl5(session=s, actor=a, client_id=t, enabled=True),
    ),
    "schedule_session": Case(
        "client",
        False,
        "dosing_scheduled",
        lambda s, a, t: plan.schedule_session(
            session=s,
            actor=a,
            client_id=t,
            data=SessionSchedule(
                local_datetime=_tomorrow_and_a_bit(), route="intravenous", setting="in_clinic"
            ),
        ),
    ),
    "get_plan": Case(
        "client",
        True,
        "plan_viewed",
        lambda s, a, t: plan.get_plan(session=s, actor=a, client_id=t),
    ),
    "list_client_alerts": Case(
        "client",
        False,
        "alerts_viewed",
        lambda s, a, t: alerts.list_client_alerts(session=s, actor=a, client_id=t),
    ),
    "move_session": Case(
        "dosing",
        False,
        "dosing_moved",
        lambda s, a, t: plan.move_session(
            session=s,
            actor=a,
            dosing_session_id=t,
            data=SessionSchedule(local_datetime=_tomorrow_and_a_bit()),
        ),
    ),
    "cancel_session": Case(
        "dosing",
        False,
        "dosing_cancelled",
        lambda s, a, t: plan.cancel_session(session=s, actor=a, dosing_session_id=t, reason="ill"),
    ),
    "complete_session": Case("dosing", False, "dosing_completed", _complete_session),
    "get_checklist": Case(
        "dosing",
        True,
        "checklist_viewed",
        lambda s, a, t: checklists.get_checklist(session=s, actor=a, dosing_session_id=t),
    ),
    "get_readiness": Case(
        "dosing",
        True,
        "readiness_viewed",
        lambda s, a, t: readiness.get_readiness(session=s, actor=a, dosing_session_id=t),
    ),
    "complete_item": Case(
        "item",
        True,
        "checklist_item_done",
        lambda s, a, t: checklists.complete_item(
            session=s, actor=a, item_id=t, values={"text": "Be open"}
        ),
    ),
    "reopen_item": Case(
        "item",
        True,
        "checklist_item_reopened",
        lambda s, a, t: checklists.reopen_item(session=s, actor=a, item_id=t),
    ),
    "save_item_draft": Case(
        "item",
        True,
        "checklist_item_draft",
        lambda s, a, t: checklists.save_item_draft(
            session=s, actor=a, item_id=t, field="text", value="Be op"
        ),
    ),
    "acknowledge_alert": Case(
        "alert",
        False,
        "alert_acknowledged",
        lambda s, a, t: inbox.acknowledge(session=s, actor=a, alert_id=t),
    ),
    "resolve_alert": Case(
        "alert",
        False,
        "alert_resolved",
        lambda s, a, t: inbox.resolve(
            session=s, actor=a, alert_id=t, note="Called her; safety plan agreed", outcome="other"
        ),
    ),
}

# A client may name only herself (or no one) for her own plan and withdrawal.
SELF_TARGETED = {"get_plan", "withdraw_consent"}


def _allowed(case: Case) -> list[str]:
    return ["client", "clinician", "admin"] if case.clients_allowed else ["clinician", "admin"]


def _denied(name: str, case: Case) -> list[str]:
    who = [p for p in PERSONAS if p not in _allowed(case)]
    return [p for p in who if not (p == "other_client" and name in SELF_TARGETED)]


ALLOWED = [(name, who) for name, case in CASES.items() for who in _allowed(case)]
DENIED = [(name, who) for name, case in CASES.items() for who in _denied(name, case)]


def test_the_matrix_denies_every_outsider_and_lets_in_exactly_the_care_team():
    assert {name for name, _ in DENIED} == set(CASES)
    for name in CASES:
        outsiders = {"other_clinician", "foreign_admin"} | (
            set() if name in SELF_TARGETED else {"other_client"}
        )
        assert outsiders <= {who for n, who in DENIED if n == name}
        assert {"clinician", "admin"} <= {who for n, who in ALLOWED if n == name}


@pytest.mark.parametrize(("name", "who"), ALLOWED)
def test_the_client_and_her_care_team_reach_her_records(engine, personas, world, name, who):
    case = CASES[name]
    with unit_of_work() as s:
        case.call(s, personas.actor(who), world.id_of(case.kind))
    events = _new_events(engine, world)
    assert [e for e in events if e.action == "access_denied"] == []
    if who != "client":  # a staff member's access to a client's record is audited
        assert (
            personas.admin.id if who == "admin" else personas.clinician.id,
            world.client_id,
        ) in {(e.actor_id, e.subject_client_id) for e in events if e.action == case.purpose}


@pytest.mark.parametrize(("name", "who"), DENIED)
def test_everyone_else_is_refused_as_not_found_and_the_refusal_is_audited(
    engine, personas, world, name, who
):
    case = CASES[name]
    actor = personas.actor(who)
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        case.call(s, actor, world.id_of(case.kind))
    assert isinstance(raised.value, NotFound)
    refused_by_role = actor.is_client and not case.clients_allowed
    [event] = _new_events(engine, world)  # the work rolled back: only the refusal is left
    assert (event.action, event.outcome, event.actor_id, event.target) == (
        "access_denied",
        "denied",
        actor.user_id,
        case.purpose,
    )
    assert event.subject_client_id == (None if refused_by_role else world.client_id)


BAD_IDS: dict[str, Callable[[int], object]] = {
    "missing": lambda valid: 987_654,
    "zero": lambda valid: 0,
    "negative": lambda valid: -valid,
    "int32_overflow": lambda valid: 2**31,
    "int64_overflow": lambda valid: 2**63,
    "str": lambda valid: str(valid),
    "float": lambda valid: float(valid),
    "bool": lambda valid: True,
    "none": lambda valid: None,
    "list": lambda valid: [valid],
}


@pytest.mark.parametrize("kind", list(BAD_IDS))
@pytest.mark.parametrize("name", list(CASES))
def test_ids_that_name_no_record_are_refused_never_crash(engine, personas, world, name, kind):
    case = CASES[name]
    bad_id = BAD_IDS[kind](world.id_of(case.kind))
    with pytest.raises(AccessDenied), unit_of_work() as s:
        case.call(s, personas.actor("admin"), bad_id)
    [event] = _new_events(engine, world)
    assert (event.action, event.actor_id, event.subject_client_id, event.target) == (
        "access_denied",
        personas.admin.id,
        None,
        case.purpose,
    )


@pytest.mark.parametrize(
    "name",
    [n for n, c in CASES.items() if c.clients_allowed and n not in SELF_TARGETED],
)
@pytest.mark.parametrize("kind", ["missing", "str", "float", "bool", "none"])
def test_a_client_naming_no_record_is_refused_too(engine, personas, world, name, kind):
    case = CASES[name]
    with pytest.raises(AccessDenied), unit_of_work() as s:
        case.call(s, personas.actor("client"), BAD_IDS[kind](world.id_of(case.kind)))
    [event] = _new_events(engine, world)
    assert (event.action, event.actor_id) == ("access_denied", personas.client.id)


# --- A client's own plan and withdrawal ----------------------------------------------------------


def test_a_client_naming_another_clients_plan_sees_only_her_own(engine, personas, world):
    try:
        with unit_of_work() as s:
            view = plan.get_plan(
                session=s, actor=personas.actor("other_client"), client_id=world.client_id
            )
    except AccessDenied:
        return  # refusing is fine too; what matters is that Ada's plan never reaches Otto
    assert (view.client_id, view.client_name, view.sessions) == (
        personas.other_client.id,
        "Otto Other",
        [],
    )


def test_a_client_asking_for_another_clients_plan_is_refused(engine, personas, world):
    with pytest.raises(AccessDenied), unit_of_work() as s:
        plan.get_plan(session=s, actor=personas.actor("other_client"), client_id=world.client_id)
    assert [e.actor_id for e in _new_events(engine, world) if e.action == "access_denied"] == [
        personas.other_client.id
    ]


def test_a_client_naming_another_client_cannot_withdraw_anything(engine, personas, world):
    otto = personas.actor("other_client")
    sign_consent(otto, name="Otto Other")
    with pytest.raises(AccessDenied), unit_of_work() as s:
        consent.withdraw_consent(session=s, actor=otto, reason="", client_id=world.client_id)
    assert count(engine, ConsentWithdrawal) == 0


def test_a_client_withdraws_only_her_own_consent_whatever_id_she_names(engine, personas, world):
    otto = personas.actor("other_client")
    sign_consent(otto, name="Otto Other")
    try:
        with unit_of_work() as s:
            consent.withdraw_consent(session=s, actor=otto, reason="", client_id=world.client_id)
    except AccessDenied:
        pass
    with db.session_scope(engine) as s:
        withdrawn = s.exec(select(ConsentWithdrawal.client_id)).all()
    assert personas.client.id not in withdrawn


# --- Services only the client herself uses -------------------------------------------------------


def _document_id(engine, clinic_id: int) -> int:
    with db.session_scope(engine) as s:
        return s.exec(
            select(ConsentDocument.id).where(ConsentDocument.clinic_id == clinic_id)
        ).one()


CLIENT_ONLY: dict[str, tuple[str, Callable]] = {
    "get_consent_flow": (
        "consent_viewed",
        lambda s, a, doc: consent.get_consent_flow(session=s, actor=a),
    ),
    "acknowledge_section": (
        "consent_progress",
        lambda s, a, doc: consent.acknowledge_section(
            session=s, actor=a, document_id=doc, section=0
        ),
    ),
    "check_answers": (
        "consent_progress",
        lambda s, a, doc: consent.check_answers(session=s, actor=a, document_id=doc, answers={}),
    ),
    "sign_consent": (
        "consent_signed",
        lambda s, a, doc: consent.sign_consent(
            session=s, actor=a, document_id=doc, full_name="Cleo Clinician"
        ),
    ),
    "get_screening": (
        "screening_viewed",
        lambda s, a, doc: screening.get_screening(session=s, actor=a),
    ),
    "get_form": (
        "questionnaire_viewed",
        lambda s, a, doc: screening.get_form(session=s, actor=a, instrument="phq9"),
    ),
    "save_answer": (
        "questionnaire_draft",
        lambda s, a, doc: screening.save_answer(
            session=s, actor=a, instrument="phq9", item="q1", value=1
        ),
    ),
    "submit_form": (
        "questionnaire_submitted",
        lambda s, a, doc: screening.submit_form(session=s, actor=a, instrument="phq9"),
    ),
}


@pytest.mark.parametrize("who", STAFF)
@pytest.mark.parametrize("name", list(CLIENT_ONLY))
def test_staff_cannot_use_the_clients_own_screens(engine, personas, name, who):
    purpose, call = CLIENT_ONLY[name]
    actor = personas.actor(who)
    with pytest.raises(AccessDenied), unit_of_work() as s:
        call(s, actor, _document_id(engine, actor.clinic_id))
    [event] = audit_events(engine)
    assert (event.action, event.actor_id, event.subject_client_id, event.target) == (
        "access_denied",
        actor.user_id,
        None,
        purpose,
    )


@pytest.mark.parametrize("who", ["client", "other_client"])
@pytest.mark.parametrize("name", ["get_consent_flow", "acknowledge_section", "get_screening"])
def test_each_client_uses_her_own_screens(engine, personas, name, who):
    _, call = CLIENT_ONLY[name]
    with unit_of_work() as s:
        view = call(s, personas.actor(who), _document_id(engine, personas.client.clinic_id))
    assert view is not None
    assert audit_events(engine, "access_denied") == []


# --- Clinic-wide settings: staff read them, admins change them ----------------------------------

EDITED_CONSENT = DEFAULT_CONSENT_TEXT + "\n## Questions\nAsk your care team anything, any time.\n"

CLINIC_WIDE: dict[str, tuple[str, set[str], Callable]] = {
    "get_document_source": (
        "consent_document",
        set(STAFF),
        lambda s, a: consent.get_document_source(session=s, actor=a),
    ),
    "publish_document": (
        "consent_published",
        {"admin", "foreign_admin"},
        lambda s, a: consent.publish_document(session=s, actor=a, text=EDITED_CONSENT),
    ),
    "get_protocol": (
        "protocol_viewed",
        set(STAFF),
        lambda s, a: protocol.get_protocol(session=s, actor=a),
    ),
    "update_protocol": (
        "protocol_changed",
        {"admin", "foreign_admin"},
        lambda s, a: protocol.update_protocol(session=s, actor=a, values={"fasting_hours": "6"}),
    ),
}
CLINIC_WIDE_CASES = [(name, who) for name in CLINIC_WIDE for who in PERSONAS]


@pytest.mark.parametrize(("name", "who"), CLINIC_WIDE_CASES)
def test_clinic_settings_are_read_by_staff_and_changed_by_admins(engine, personas, name, who):
    purpose, allowed, call = CLINIC_WIDE[name]
    actor = personas.actor(who)
    if who in allowed:
        with unit_of_work() as s:
            assert call(s, actor) is not None
        assert audit_events(engine, "access_denied") == []
        return
    with pytest.raises(AccessDenied), unit_of_work() as s:
        call(s, actor)
    assert [(e.action, e.actor_id, e.target) for e in audit_events(engine)] == [
        ("access_denied", actor.user_id, purpose)
    ]


def test_an_admin_publishes_and_tunes_only_her_own_clinic(engine, personas):
    zed = personas.actor("foreign_admin")
    with unit_of_work() as s:
        consent.publish_document(session=s, actor=zed, text=EDITED_CONSENT)
        protocol.update_protocol(session=s, actor=zed, values={"fasting_hours": "6"})
    with unit_of_work() as s:
        ours = consent.get_document_source(session=s, actor=personas.actor("admin"))
        fasting = {
            v.name: v.value
            for v in protocol.get_protocol(session=s, actor=personas.actor("admin")).settings
        }["fasting_hours"]
        theirs = consent.get_document_source(session=s, actor=zed)
    assert (ours.version, theirs.version, fasting) == (1, 2, 4)


def test_a_denied_signature_leaves_no_signature_behind(engine, personas):
    cleo = personas.actor("clinician")
    with pytest.raises(AccessDenied), unit_of_work() as s:
        consent.sign_consent(
            session=s,
            actor=cleo,
            document_id=_document_id(engine, cleo.clinic_id),
            full_name="Cleo Clinician",
        )
    assert count(engine, ConsentSignature) == 0

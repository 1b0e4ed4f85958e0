"""Informed consent: reading, the comprehension check, signing, withdrawing, new versions, and the
database refusing to edit or delete signed records."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.consent_text import digest, parse
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    ConsentProgress,
    ConsentSignature,
    ConsentWithdrawal,
)
from kapjourney.services import consent
from kapjourney.services.uow import unit_of_work
from tests.journey_support import SIGNED_NAME, correct_answers, sign_consent
from tests.support import audit_events, count

CONTENT = parse(DEFAULT_CONSENT_TEXT)
SECTIONS = len(CONTENT.sections)
EDITED = DEFAULT_CONSENT_TEXT + "\n## Questions\nAsk your care team anything, any time.\n"
HOSTILE = "<script>alert(1)</script> & <b>Ada</b>"


def _flow(personas, who: str = "client"):
    with unit_of_work() as s:
        return consent.get_consent_flow(session=s, actor=personas.actor(who))


def _ack(personas, document_id: int, section: object, who: str = "client"):
    with unit_of_work() as s:
        return consent.acknowledge_section(
            session=s, actor=personas.actor(who), document_id=document_id, section=section
        )


def _ack_all(personas, document_id: int) -> None:
    for n in range(SECTIONS):
        _ack(personas, document_id, n)


def _check(personas, document_id: int, answers: object):
    with unit_of_work() as s:
        return consent.check_answers(
            session=s, actor=personas.actor("client"), document_id=document_id, answers=answers
        )


def _sign(personas, document_id: int, name: object = SIGNED_NAME):
    with unit_of_work() as s:
        return consent.sign_consent(
            session=s, actor=personas.actor("client"), document_id=document_id, full_name=name
        )


def _withdraw(personas, who: str = "client", reason: object = "Changed my mind"):
    with unit_of_work() as s:
        return consent.withdraw_consent(
            session=s, actor=personas.actor(who), reason=reason, client_id=personas.client.id
        )


def _status(personas, who: str = "clinician"):
    with unit_of_work() as s:
        return consent.consent_status(
            session=s, actor=personas.actor(who), client_id=personas.client.id
        )


def _publish(personas, source: object = EDITED, who: str = "admin"):
    with unit_of_work() as s:
        return consent.publish_document(session=s, actor=personas.actor(who), text=source)


# --- Reading and the comprehension check ---------------------------------------------------------


def test_a_new_client_is_shown_the_clinics_default_document_unsigned(engine, personas):
    flow = _flow(personas)
    assert (flow.available, flow.version, flow.state, flow.signature_id) == (True, 1, "none", 0)
    assert flow.sha256 == digest(DEFAULT_CONSENT_TEXT)
    assert [s.title for s in flow.sections] == [s.title for s in CONTENT.sections]
    assert [q.section_index for q in flow.questions] == [n for n, _ in CONTENT.questions]
    assert not any(s.acknowledged for s in flow.sections)
    assert (flow.all_acknowledged, flow.quiz_passed) == (False, False)


def test_acknowledged_sections_are_kept_between_visits(engine, personas):
    document_id = _flow(personas).document_id
    _ack(personas, document_id, 2)
    _ack(personas, document_id, 0)
    _ack(personas, document_id, 2)
    flow = _flow(personas)
    assert [s.index for s in flow.sections if s.acknowledged] == [0, 2]
    assert not flow.all_acknowledged
    _ack_all(personas, document_id)
    assert _flow(personas).all_acknowledged


@pytest.mark.parametrize("section", [-1, SECTIONS, "0", 0.0, True, None, [0]])
def test_a_section_outside_the_document_is_refused(engine, personas, section):
    document_id = _flow(personas).document_id
    with pytest.raises(ValidationFailed) as raised:
        _ack(personas, document_id, section)
    assert set(raised.value.fields) == {"form"}
    assert count(engine, ConsentProgress) == 0


def test_the_check_waits_until_every_section_is_read(engine, personas):
    document_id = _flow(personas).document_id
    _ack(personas, document_id, 0)
    with pytest.raises(ValidationFailed) as raised:
        _check(personas, document_id, correct_answers())
    assert "every section" in raised.value.fields["form"]
    assert not _flow(personas).quiz_passed


def test_a_wrong_answer_sends_the_client_back_to_its_section(engine, personas):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    answers = correct_answers()
    section_of_q2, question = CONTENT.questions[2]
    answers["2"] = (question.correct + 1) % len(question.choices)
    result = _check(personas, document_id, answers)
    assert (result.passed, result.wrong, result.sections) == (False, [2], [section_of_q2])
    assert not _flow(personas).quiz_passed
    [event] = audit_events(engine, "consent_quiz")
    assert (event.outcome, event.detail) == ("retry", "version=1 wrong=1")


@pytest.mark.parametrize("answers", [None, [], "all right", {}])
def test_no_answers_are_all_wrong(engine, personas, answers):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    result = _check(personas, document_id, answers)
    assert result.wrong == list(range(len(CONTENT.questions)))
    assert result.sections == sorted({n for n, _ in CONTENT.questions})


def test_the_right_answers_pass_and_attempts_are_counted(engine, personas):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    _check(personas, document_id, {})
    result = _check(personas, document_id, correct_answers())
    assert (result.passed, result.wrong, result.sections) == (True, [], [])
    with db.session_scope(engine) as s:
        progress = s.exec(select(ConsentProgress)).one()
        assert (progress.quiz_attempts, progress.quiz_passed_at is not None) == (2, True)
    assert [e.outcome for e in audit_events(engine, "consent_quiz")] == ["retry", "ok"]


# --- Signing -------------------------------------------------------------------------------------


def test_signing_before_the_check_is_refused(engine, personas):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    with pytest.raises(ValidationFailed) as raised:
        _sign(personas, document_id)
    assert set(raised.value.fields) == {"form"}
    assert count(engine, ConsentSignature) == 0


@pytest.mark.parametrize(
    "name", ["", "   ", "A", "1234 5678", "Ada\nLovelace", "Ada\tLovelace", "A" * 201, None, 42]
)
def test_a_signature_needs_a_full_name_on_one_line(engine, personas, name):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    _check(personas, document_id, correct_answers())
    with pytest.raises(ValidationFailed) as raised:
        _sign(personas, document_id, name)
    assert set(raised.value.fields) == {"full_name"}
    assert count(engine, ConsentSignature) == 0


def test_signing_records_the_version_its_digest_and_the_typed_name(engine, personas):
    flow = sign_consent(personas.actor("client", ip="203.0.113.9"), name="  Ada  Lovelace ")
    assert (flow.state, flow.signed_version, flow.signed_name) == ("current", 1, "Ada  Lovelace")
    with db.session_scope(engine) as s:
        row = s.exec(select(ConsentSignature)).one()
        assert (
            row.id,
            row.client_id,
            row.document_version,
            row.document_sha256,
            row.signed_name,
            row.ip,
            row.user_agent,
        ) == (
            flow.signature_id,
            personas.client.id,
            1,
            digest(DEFAULT_CONSENT_TEXT),
            "Ada  Lovelace",
            "203.0.113.9",
            "pytest-browser/1.0",
        )
    [event] = audit_events(engine, "consent_signed")
    assert (event.subject_client_id, event.target, event.detail) == (
        personas.client.id,
        f"signature:{flow.signature_id}",
        "version=1",
    )


def test_signing_again_while_current_adds_no_second_signature(engine, personas):
    flow = sign_consent(personas.actor("client"))
    again = _sign(personas, flow.document_id, "Someone Else")
    assert (again.signature_id, again.signed_name) == (flow.signature_id, SIGNED_NAME)
    assert count(engine, ConsentSignature) == 1


def test_a_hostile_name_is_stored_exactly_as_typed(engine, personas):
    flow = sign_consent(personas.actor("client"), name=HOSTILE)
    assert flow.signed_name == HOSTILE
    assert [r.signed_name for r in _status(personas).signatures] == [HOSTILE]


# --- Withdrawal ----------------------------------------------------------------------------------


def test_nothing_to_withdraw_before_signing(engine, personas):
    with pytest.raises(ValidationFailed):
        _withdraw(personas)
    assert count(engine, ConsentWithdrawal) == 0


@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_withdrawing_is_recorded_once_by_whoever_did_it(engine, personas, who):
    flow = sign_consent(personas.actor("client"))
    status = _withdraw(personas, who)
    assert status.state == "withdrawn"
    assert [(r.signature_id, r.withdrawn_at != "") for r in status.signatures] == [
        (flow.signature_id, True)
    ]
    with db.session_scope(engine) as s:
        row = s.exec(select(ConsentWithdrawal)).one()
        assert (row.signature_id, row.recorded_by_id, row.reason) == (
            flow.signature_id,
            getattr(personas, who).id,
            "Changed my mind",
        )
    with pytest.raises(ValidationFailed):
        _withdraw(personas, who)
    assert count(engine, ConsentWithdrawal) == 1
    assert [
        (e.actor_id, e.target) for e in audit_events(engine, "consent_withdrawn") if e.target
    ] == [(getattr(personas, who).id, f"signature:{flow.signature_id}")]


def test_a_withdrawal_reason_over_2000_characters_is_refused(engine, personas):
    sign_consent(personas.actor("client"))
    with pytest.raises(ValidationFailed) as raised:
        _withdraw(personas, reason="x" * 2001)
    assert set(raised.value.fields) == {"reason"}
    assert _status(personas).state == "current"


def test_signing_again_after_withdrawing_makes_consent_current(engine, personas):
    first = sign_consent(personas.actor("client"))
    _withdraw(personas)
    assert _flow(personas).state == "withdrawn"
    second = _sign(personas, first.document_id)
    assert second.state == "current" and second.signature_id != first.signature_id
    status = _status(personas)
    assert [(r.signature_id, r.withdrawn_at != "") for r in status.signatures] == [
        (second.signature_id, False),
        (first.signature_id, True),
    ]


# --- New versions --------------------------------------------------------------------------------


def test_a_new_version_needs_reading_and_signing_again(engine, personas):
    first = sign_consent(personas.actor("client"))
    published = _publish(personas)
    assert (published.version, published.sha256) == (2, digest(EDITED))
    flow = _flow(personas)
    assert (flow.state, flow.version, flow.all_acknowledged, flow.quiz_passed) == (
        "outdated",
        2,
        False,
        False,
    )
    assert flow.document_id != first.document_id
    with pytest.raises(ValidationFailed):
        _sign(personas, flow.document_id)
    renewed = sign_consent(personas.actor("client"), text=EDITED)
    assert (renewed.state, renewed.signed_version) == ("current", 2)
    status = _status(personas)
    assert (status.current_version, [r.version for r in status.signatures]) == (2, [2, 1])
    [event] = audit_events(engine, "consent_published")
    assert (event.actor_id, event.detail) == (personas.admin.id, "version=2")


def test_a_page_left_open_on_the_old_version_cannot_sign_it(engine, personas):
    document_id = _flow(personas).document_id
    _ack_all(personas, document_id)
    _check(personas, document_id, correct_answers())
    _publish(personas)
    with pytest.raises(ValidationFailed) as raised:
        _sign(personas, document_id)
    assert "updated" in raised.value.fields["form"]
    assert count(engine, ConsentSignature) == 0


@pytest.mark.parametrize(
    "source",
    [DEFAULT_CONSENT_TEXT, DEFAULT_CONSENT_TEXT + "\n\n\n", "", "no title", None, 12],
    ids=["same", "same_normalized", "empty", "no_title", "none", "int"],
)
def test_publishing_refuses_the_current_text_and_broken_documents(engine, personas, source):
    with pytest.raises(ValidationFailed) as raised:
        _publish(personas, source)
    assert set(raised.value.fields) == {"text"}
    with unit_of_work() as s:
        assert (
            consent.get_document_source(session=s, actor=personas.actor("clinician")).version == 1
        )


def test_staff_read_the_source_as_published(engine, personas):
    _publish(personas)
    with unit_of_work() as s:
        source = consent.get_document_source(session=s, actor=personas.actor("clinician"))
    assert (source.version, source.sha256, source.text) == (2, digest(EDITED), EDITED)


# --- Append-only records -------------------------------------------------------------------------

STATEMENTS = {
    "update_signature": "UPDATE consentsignature SET signed_name = 'Forged Name'",
    "delete_signature": "DELETE FROM consentsignature",
    "update_withdrawal": "UPDATE consentwithdrawal SET reason = 'forged'",
    "delete_withdrawal": "DELETE FROM consentwithdrawal",
}


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_the_database_refuses_to_edit_or_delete_signed_records(engine, personas, name):
    sign_consent(personas.actor("client"))
    _withdraw(personas)
    with pytest.raises(DBAPIError, match="append-only"), db.session_scope(engine) as s:
        s.execute(text(STATEMENTS[name]))
    assert (count(engine, ConsentSignature), count(engine, ConsentWithdrawal)) == (1, 1)
    with db.session_scope(engine) as s:
        signature = s.exec(select(ConsentSignature)).one()
        withdrawal = s.exec(select(ConsentWithdrawal)).one()
        assert (signature.signed_name, withdrawal.reason) == (SIGNED_NAME, "Changed my mind")


def test_the_orm_cannot_edit_a_signature_either(engine, personas):
    sign_consent(personas.actor("client"))
    with pytest.raises(DBAPIError, match="append-only"), db.session_scope(engine) as s:
        row = s.exec(select(ConsentSignature)).one()
        row.document_version = 99
        s.add(row)
        s.flush()
    with db.session_scope(engine) as s:
        assert s.exec(select(ConsentSignature.document_version)).one() == 1

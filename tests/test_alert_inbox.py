"""The alert inbox: gravest and longest-waiting first, acknowledge / resolve / reassign each
audited by alert id (never the reason), the access matrix, and escalation on the worker tick at
exactly the clinic's minutes, once whatever the number of workers, pushed to every clinician and
admin of the clinic through the real test push service, and never after an acknowledgement."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import as_utc
from kapjourney.domain import reminders as r
from kapjourney.domain.enums import AlertSeverity, AlertStatus
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.models import Alert, AuditEvent, Notification, User
from kapjourney.domain.schemas import Actor
from kapjourney.notifications import planner, worker
from kapjourney.services import alerts, inbox, protocol, reminders
from kapjourney.services.uow import unit_of_work
from tests.push_service import make_subscription
from tests.reminder_support import FORBIDDEN, notifications
from tests.test_reminder_delivery import push_setup  # noqa: F401  (the real push service)

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)
INBOX_URL = "/clinician/alerts"


def frozen(at: datetime):
    return time_machine.travel(at, tick=False)


def raise_one(client_id: int, severity: str, at: datetime, source_id: int, reason="chest_pain"):
    with frozen(at), unit_of_work() as s:
        alert = alerts.raise_alert(
            s,
            client=s.get(User, client_id),
            severity=AlertSeverity(severity),
            reason_code=reason,
            source_kind="symptom_report",
            source_id=source_id,
        )
        return alert.id


def call(work, actor, at: datetime = T0, **kwargs):
    with frozen(at), unit_of_work() as s:
        return work(session=s, actor=actor, **kwargs)


def audit_rows(engine, action: str) -> list[AuditEvent]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def stored(engine, alert_id: int) -> Alert:
    with db.session_scope(engine) as s:
        return s.get(Alert, alert_id)


def escalations(engine) -> list[Notification]:
    return notifications(engine, kind=r.ALERT_ESCALATED)


def escalate(at: datetime) -> int:
    with frozen(at), db.session_scope() as s:
        return inbox.escalate_due(s, at)


# --- The list -------------------------------------------------------------------------------


def test_the_inbox_lists_gravest_tier_first_then_longest_waiting(engine, personas):
    cid = personas.client.id
    routine = raise_one(cid, "routine", T0 - timedelta(hours=3), 1, "symptom_moderate")
    newer_urgent = raise_one(cid, "urgent", T0 - timedelta(minutes=5), 2, "urinary_symptoms")
    older_urgent = raise_one(cid, "urgent", T0 - timedelta(minutes=40), 3, "urinary_symptoms")
    emergency = raise_one(cid, "emergency", T0 - timedelta(minutes=2), 4)
    resolved = raise_one(cid, "emergency", T0 - timedelta(hours=5), 5)
    cleo = personas.actor("clinician")
    call(inbox.resolve, cleo, alert_id=resolved, note="Called her.", outcome="contacted_client")
    call(inbox.acknowledge, cleo, alert_id=older_urgent)

    view = call(inbox.list_inbox, cleo)

    assert [row.alert_id for row in view.rows] == [emergency, older_urgent, newer_urgent, routine]
    top, acknowledged = view.rows[0], view.rows[1]
    assert (top.client_name, top.reason, top.source, top.waiting) == (
        "Ada Client",
        "Chest pain or breathlessness after a session",
        "After-session report",
        "2 min",
    )
    assert top.can_open_client and not top.escalated and top.status == "open"
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", "Cleo Clinician")
    assert view.rows[3].waiting == "3 h"
    assert ("contacted_client", inbox.OUTCOMES["contacted_client"]) in view.outcomes
    assert [name for _, name in view.clinicians] == ["Cleo Clinician", "Uma Unassigned"]


def test_time_since_raised_reads_in_minutes_hours_and_days():
    at = T0
    assert [
        inbox.waited(at - delta, at)
        for delta in (
            timedelta(seconds=20),
            timedelta(minutes=59),
            timedelta(minutes=125),
            timedelta(days=2, hours=3),
        )
    ] == ["just now", "59 min", "2 h 5 min", "2 d 3 h"]


def test_each_staff_member_sees_only_alerts_within_reach(engine, personas):
    mine = raise_one(personas.client.id, "urgent", T0, 1)
    theirs = raise_one(personas.other_client.id, "urgent", T0, 2)

    def seen(who: str) -> list[int]:
        return [row.alert_id for row in call(inbox.list_inbox, personas.actor(who)).rows]

    assert seen("clinician") == [mine]
    assert seen("other_clinician") == [theirs]
    assert sorted(seen("admin")) == sorted([mine, theirs])
    assert seen("foreign_admin") == []
    with pytest.raises(NotFound):
        call(inbox.list_inbox, personas.actor("client"))
    assert audit_rows(engine, "access_denied")[-1].actor_id == personas.client.id
    assert len(audit_rows(engine, "alert_inbox_viewed")) == 4


@pytest.mark.parametrize("who", ["other_clinician", "foreign_admin", "client", "other_client"])
@pytest.mark.parametrize("action", ["acknowledge", "resolve", "reassign"])
def test_anyone_out_of_reach_is_told_not_found_and_the_denial_is_audited(
    engine, personas, who, action
):
    alert_id = raise_one(personas.client.id, "urgent", T0, 1)
    kwargs = {
        "acknowledge": {},
        "resolve": {"note": "Tried to close it", "outcome": "other"},
        "reassign": {"clinician_id": personas.other_clinician.id},
    }[action]
    with pytest.raises(NotFound):
        call(getattr(inbox, action), personas.actor(who), alert_id=alert_id, **kwargs)
    alert = stored(engine, alert_id)
    assert (alert.status, alert.assigned_to_id, alert.acknowledged_by_id) == ("open", None, None)
    [denied] = audit_rows(engine, "access_denied")
    assert (denied.actor_id, denied.outcome, denied.target) == (
        getattr(personas, who).id,
        "denied",
        {"acknowledge": "alert_acknowledged", "resolve": "alert_resolved"}.get(
            action, "alert_reassigned"
        ),
    )


def test_unknown_and_hostile_alert_ids_are_not_found(engine, personas):
    for bad in (999_999, "1", True, -1, 2**40, None):
        with pytest.raises(NotFound):
            call(inbox.acknowledge, personas.actor("admin"), alert_id=bad)


# --- Acknowledge, resolve, reassign ----------------------------------------------------------


def test_acknowledging_records_who_and_when_once_and_is_audited_by_alert_id(engine, personas):
    alert_id = raise_one(personas.client.id, "emergency", T0, 1)
    call(
        inbox.acknowledge, personas.actor("clinician"), T0 + timedelta(minutes=3), alert_id=alert_id
    )
    call(inbox.acknowledge, personas.actor("admin"), T0 + timedelta(minutes=9), alert_id=alert_id)
    alert = stored(engine, alert_id)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by_id == personas.clinician.id
    assert as_utc(alert.acknowledged_at) == T0 + timedelta(minutes=3)
    rows = audit_rows(engine, "alert_acknowledged")
    assert [(a.actor_id, a.detail, a.subject_client_id) for a in rows] == [
        (personas.clinician.id, f"alert={alert_id}", personas.client.id),
        (personas.admin.id, f"alert={alert_id}", personas.client.id),
    ]


def test_resolving_needs_a_note_and_an_outcome_from_the_list(engine, personas):
    alert_id = raise_one(personas.client.id, "urgent", T0, 1)
    cleo = personas.actor("clinician")
    with pytest.raises(ValidationFailed) as problem:
        call(inbox.resolve, cleo, alert_id=alert_id, note=" ", outcome="made_up")
    assert set(problem.value.fields) == {"note", "outcome"}
    call(inbox.resolve, cleo, alert_id=alert_id, note="Called her back.", outcome="referred")
    alert = stored(engine, alert_id)
    assert (alert.status, alert.outcome, alert.resolution_note) == (
        "resolved",
        "referred",
        "Called her back.",
    )
    assert alert.acknowledged_by_id == alert.resolved_by_id == personas.clinician.id
    [row] = audit_rows(engine, "alert_resolved")
    assert row.detail == f"alert={alert_id} outcome=referred"
    assert call(inbox.list_inbox, cleo).rows == []


def test_reassigning_hands_the_alert_over_and_pushes_the_new_owner(engine, personas):
    alert_id = raise_one(personas.client.id, "routine", T0, 1, "symptom_moderate")
    uma = personas.actor("other_clinician")
    assert call(inbox.list_inbox, uma).rows == []

    call(
        inbox.reassign,
        personas.actor("clinician"),
        alert_id=alert_id,
        clinician_id=personas.other_clinician.id,
    )

    [row] = call(inbox.list_inbox, uma).rows
    assert (row.alert_id, row.assigned_to, row.can_open_client) == (
        alert_id,
        "Uma Unassigned",
        False,  # the inbox, not the client's whole record
    )
    call(inbox.acknowledge, uma, alert_id=alert_id)  # the new owner can act on it
    [push] = notifications(engine, user_id=personas.other_clinician.id)
    assert (push.kind, push.url, push.status) == (r.ALERT_RAISED, INBOX_URL, "pending")
    [audited] = audit_rows(engine, "alert_reassigned")
    assert audited.detail == f"alert={alert_id} to={personas.other_clinician.id}"


@pytest.mark.parametrize("target", ["client", "admin", "foreign_admin", "missing"])
def test_an_alert_is_reassigned_only_to_a_clinician_of_the_clinic(engine, personas, target):
    alert_id = raise_one(personas.client.id, "urgent", T0, 1)
    clinician_id = 999_999 if target == "missing" else getattr(personas, target).id
    with pytest.raises(ValidationFailed):
        call(inbox.reassign, personas.actor("admin"), alert_id=alert_id, clinician_id=clinician_id)
    assert stored(engine, alert_id).assigned_to_id is None


def test_audit_rows_never_carry_the_reason(engine, personas):
    alert_id = raise_one(personas.client.id, "emergency", T0, 1, "chest_pain")
    cleo = personas.actor("clinician")
    call(inbox.acknowledge, cleo, alert_id=alert_id)
    call(inbox.reassign, cleo, alert_id=alert_id, clinician_id=personas.other_clinician.id)
    escalate(T0 + timedelta(hours=1))
    call(inbox.resolve, cleo, alert_id=alert_id, note="Chest pain settled", outcome="other")
    with db.session_scope(engine) as s:
        details = " ".join(a.detail + a.target for a in s.exec(select(AuditEvent)).all()).lower()
    assert "chest" not in details and "settled" not in details


# --- Escalation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "minutes"), [("emergency", 5), ("urgent", 15)])
def test_an_unacknowledged_alert_escalates_at_exactly_the_clinic_minutes(
    engine, personas, severity, minutes
):
    alert_id = raise_one(personas.client.id, severity, T0, 1)
    due = T0 + timedelta(minutes=minutes)
    assert escalate(due - timedelta(seconds=1)) == 0
    assert stored(engine, alert_id).escalated_at is None
    assert escalate(due) == 1
    assert as_utc(stored(engine, alert_id).escalated_at) == due
    assert escalate(due + timedelta(minutes=30)) == 0  # once only
    staff = {personas.clinician.id, personas.other_clinician.id, personas.admin.id}
    pushes = escalations(engine)
    assert {n.user_id for n in pushes} == staff and len(pushes) == 3
    assert {(n.slot, n.url) for n in pushes} == {(f"{alert_id}:escalated", INBOX_URL)}
    [audited] = audit_rows(engine, "alert_escalated")
    assert (audited.actor_id, audited.detail) == (None, f"alert={alert_id} staff=3")
    [row] = call(inbox.list_inbox, personas.actor("clinician"), due).rows
    assert row.escalated


def test_the_clinic_sets_its_own_escalation_minutes_within_range(engine, personas):
    admin = personas.actor("admin")
    for bad in ({"escalate_emergency_minutes": "0"}, {"escalate_urgent_minutes": "241"}):
        with pytest.raises(ValidationFailed) as problem:
            call(protocol.update_protocol, admin, values=bad)
        assert set(problem.value.fields) == set(bad)
    call(protocol.update_protocol, admin, values={"escalate_urgent_minutes": "30"})
    alert_id = raise_one(personas.client.id, "urgent", T0, 1)
    assert escalate(T0 + timedelta(minutes=29)) == 0
    assert escalate(T0 + timedelta(minutes=30)) == 1
    assert stored(engine, alert_id).escalated_at is not None
    # The other clinic's alert keeps the defaults: its protocol was not changed.
    [changed] = audit_rows(engine, "protocol_changed")
    assert (changed.target, changed.detail) == ("escalate_urgent_minutes", "15->30")


def test_routine_acknowledged_and_resolved_alerts_never_escalate(engine, personas):
    cid = personas.client.id
    raise_one(cid, "routine", T0, 1, "symptom_moderate")
    acknowledged = raise_one(cid, "emergency", T0, 2)
    resolved = raise_one(cid, "urgent", T0, 3)
    cleo = personas.actor("clinician")
    call(inbox.acknowledge, cleo, T0 + timedelta(minutes=4), alert_id=acknowledged)
    call(inbox.resolve, cleo, alert_id=resolved, note="Seen today.", outcome="session_held")
    assert escalate(T0 + timedelta(days=1)) == 0
    assert escalations(engine) == []


def test_two_workers_racing_escalate_once(engine, personas):
    alert_id = raise_one(personas.client.id, "emergency", T0, 1)
    at = T0 + timedelta(minutes=6)
    start = threading.Barrier(2)
    made: list[int] = []

    def work():
        start.wait()
        with db.session_scope(engine) as s:
            made.append(inbox.escalate_due(s, at))

    with frozen(at):
        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(made) == [0, 1]
    assert len(escalations(engine)) == 3
    assert len(audit_rows(engine, "alert_escalated")) == 1
    assert stored(engine, alert_id).escalated_at is not None


def test_an_escalation_push_is_dropped_once_someone_acknowledges(engine, personas):
    alert_id = raise_one(personas.client.id, "emergency", T0, 1)
    at = T0 + timedelta(minutes=5)
    escalate(at)
    [first, *_] = escalations(engine)
    with db.session_scope(engine) as s:
        assert planner.still_wanted(s, s.get(Notification, first.id), at)
    call(inbox.acknowledge, personas.actor("admin"), at, alert_id=alert_id)
    with db.session_scope(engine) as s:
        assert not planner.still_wanted(s, s.get(Notification, first.id), at)


def _subscribe(engine, user: User, service) -> dict:
    sub = make_subscription(service)
    with db.session_scope(engine) as s:
        reminders.save_device(
            session=s,
            actor=Actor.from_user(user),
            device=reminders.NewDevice(sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"]),
        )
    return sub


def test_the_worker_tick_escalates_and_pushes_every_clinician_and_admin(
    engine,
    personas,
    push_setup,  # noqa: F811
):
    settings, service = push_setup
    subs = {
        who: _subscribe(engine, getattr(personas, who), service)
        for who in ("clinician", "other_clinician", "admin", "foreign_admin")
    }
    alert_id = raise_one(personas.client.id, "urgent", T0, 1, "urinary_symptoms")
    d = worker.make_dispatcher(settings)
    try:
        with frozen(T0 + timedelta(minutes=14)):
            early = worker.tick(d)
        with frozen(T0 + timedelta(minutes=15)):
            result = worker.tick(d)
            again = worker.tick(d)
    finally:
        d.transport.close()

    assert (early.escalated, result.escalated, again.escalated) == (0, 1, 0)
    assert stored(engine, alert_id).escalated_at is not None
    for who in ("clinician", "other_clinician", "admin"):
        escalated = [
            x for x in service.deliveries_for(subs[who]) if x.payload["tag"] == "kj-inbox-escalated"
        ]
        assert len(escalated) == 1, who
        [delivery] = escalated
        assert delivery.payload["url"] == INBOX_URL and delivery.urgency == "high"
        # What a lock screen shows (the link is the clinician's own inbox page).
        shown = (delivery.payload["title"] + " " + delivery.payload["body"]).lower()
        assert [word for word in FORBIDDEN if word in shown] == []
        assert set(delivery.payload) == {"title", "body", "url", "tag", "id"}
    assert service.deliveries_for(subs["foreign_admin"]) == []
    # Cleo, Ada's clinician, also had the raise-time push (urgent tier) before.
    assert len(service.deliveries_for(subs["clinician"])) == 2


# --- The page's handlers -----------------------------------------------------------------------


def test_the_inbox_handlers_authorize_every_call(engine, personas):
    from kapjourney.ui.pages.alerts_inbox.state import InboxState
    from tests.conftest import run_async
    from tests.test_handlers import _cookie_for, _is_redirect, _state

    mine = raise_one(personas.client.id, "urgent", T0, 1)
    theirs = raise_one(personas.other_client.id, "urgent", T0, 2)

    signed_out = _state(InboxState)
    assert _is_redirect(run_async(signed_out.load()), "/signin") and signed_out.rows == []
    client = _state(InboxState, _cookie_for(engine, personas.client))
    assert _is_redirect(run_async(client.load()), "/today") and client.rows == []

    cleo = _state(InboxState, _cookie_for(engine, personas.clinician))
    run_async(cleo.load())
    assert [row.alert_id for row in cleo.rows] == [mine]
    run_async(cleo.acknowledge(theirs))  # a hostile call naming an alert out of her reach
    assert stored(engine, theirs).status == "open"
    run_async(cleo.acknowledge(mine))
    assert [row.status for row in cleo.rows] == ["acknowledged"]
    run_async(cleo.open_dialog("resolve", mine))
    run_async(cleo.resolve({"note": "Rang her.", "outcome": "nope"}))
    assert cleo.dialog == "resolve" and cleo.errors["outcome"] != ""
    run_async(cleo.resolve({"note": "Rang her.", "outcome": "contacted_client"}))
    assert (cleo.dialog, cleo.rows) == ("", [])
    assert stored(engine, mine).outcome == "contacted_client"

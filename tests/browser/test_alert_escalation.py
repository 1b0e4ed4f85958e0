"""Escalation against the real server: an urgent report nobody acknowledges reaches the clinic.

Harbour Lane, a clinic of its own (no other test's alert escalates there, no one else's phone is
pushed): Noor, the client's clinician, has the inbox open on a desktop (1280x800); Ines, the
admin, on a tablet (820x1180); Theo, the other clinician, is signed in nowhere. Each has a phone
registered on the test push service, which the browser conftest starts on loopback and puts on
the server's KJ_PUSH_ALLOWED. Ines sets the clinic's urgent escalation to 20 minutes on the
protocol page; Quinn, the client, sends an urgent after-session report from her phone.

Time: urgent escalation cannot be set below 5 minutes (the setting's range) and the server has no
clock a test may move, so the test ages the alert in the server's database instead: to 16
minutes (past the default 15, short of the clinic's 20: nothing happens), then to 21. The
server's own worker (its lifespan task, ticking every 2 s in this tier) escalates it; the test
push service decrypts a push for each phone with the generic escalation text; both open inboxes
show "escalated" without a reload; the audit log has the escalation. Then Noor opens Quinn's
page from the inbox and resolves the alert there with an outcome and a note.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Alert, AuditEvent, User
from kapjourney.domain.reminders import ALERT_ESCALATED
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.notifications.messages import MESSAGES
from kapjourney.routes import ALERTS, report_url
from kapjourney.seed import STAFF_PASSWORD
from kapjourney.services import reminders
from tests.browser.conftest import sign_in
from tests.browser.journeys import check_page, resolve_in_dialog
from tests.browser.people import invite_client_of_sam, make_clinic, with_db
from tests.push_service import make_subscription
from tests.reminder_support import FORBIDDEN

TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2, "has_touch": True}
NOOR = "noor.haddad@harbourlane.example"
THEO = "theo.marsh@harbourlane.example"
INES = "ines.duarte@harbourlane.example"
STAFF = (
    (NOOR, "Noor Haddad", Role.CLINICIAN),
    (THEO, "Theo Marsh", Role.CLINICIAN),
    (INES, "Ines Duarte", Role.ADMIN),
)
CLIENT, CLIENT_NAME, PASSWORD = "quinn@harbourlane.example", "Quinn Abernathy", "tidal river stone"
ESCALATED_TAG = "kj-inbox-escalated"


def _register_phones(db_url: str, app_url: str, service) -> dict[str, dict]:
    """A phone per staff member on the test push service, subscribed with the server's key."""
    with urllib.request.urlopen(app_url + "/api/push/public-key", timeout=10) as response:
        key = json.load(response)["key"]
    engine = db.make_engine(db_url)
    phones = {}
    try:
        for email, _, _ in STAFF:
            sub = make_subscription(service, application_server_key=key)
            with db.session_scope(engine) as s:
                user = s.exec(select(User).where(User.email == email)).one()
                reminders.save_device(
                    session=s,
                    actor=Actor.from_user(user),
                    device=reminders.NewDevice(
                        sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"]
                    ),
                )
            phones[email] = sub
    finally:
        engine.dispose()
    return phones


def _alert_of_client(s) -> Alert:
    client = s.exec(select(User).where(User.email == CLIENT)).one()
    return s.exec(select(Alert).where(Alert.client_id == client.id)).one()


def _age(db_url: str, minutes: int) -> None:
    """The only shortcut: the alert was raised ``minutes`` ago (see the module's docstring)."""

    def work(s):
        alert = _alert_of_client(s)
        alert.created_at = now() - timedelta(minutes=minutes)
        s.add(alert)

    with_db(db_url, work)


def _pushes(service, phone: dict, tag: str) -> list:
    return [
        d
        for d in service.deliveries_for(phone)
        if isinstance(d.payload, dict) and d.payload.get("tag") == tag
    ]


def _wait_for_pushes(service, phones: dict[str, dict], tag: str, timeout: float = 45) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        got = {email: _pushes(service, phone, tag) for email, phone in phones.items()}
        if all(got.values()) or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


def _open_inbox(page: Page) -> None:
    page.locator("#nav-alerts").click()
    expect(page).to_have_url(re.compile(r"/clinician/alerts/?$"))
    size = page.viewport_size
    page.mouse.move(size["width"] - 20, size["height"] - 20)  # off the link: axe judges no hover
    expect(page.locator("#inbox-live")).to_be_visible()
    page.evaluate("window.__kjSamePage = true")  # gone if the page reloads


def _set_urgent_minutes(page: Page, minutes: int) -> None:
    page.locator("#nav-protocol").click()
    field = page.locator("#protocol-escalate_urgent_minutes")
    expect(field).to_have_value("15")
    field.fill(str(minutes))
    page.locator("#protocol-save").click()
    expect(page.get_by_text("Protocol saved.")).to_be_visible()


def _send_urgent_report(page: Page, dosing_id: int) -> None:
    sign_in(page, CLIENT, PASSWORD)
    page.goto(report_url(dosing_id, 1440))
    for key, _ in SYMPTOM_ITEMS:  # still feeling detached a day later: urgent
        choice = "Mild" if key == "detached" else "None"
        radio = page.locator(f"#item-{key}").get_by_role("radio", name=choice, exact=True)
        radio.click()
        expect(radio).to_be_checked()
    page.locator("#report-submit").click()
    expect(page).to_have_url(re.compile(r"/support/?$"))


def _audited(db_url: str, alert_id: int) -> dict[str, list[tuple]]:
    def work(s):
        ids = {u.email: u.id for u in s.exec(select(User)).all()}
        rows = s.exec(
            select(AuditEvent)
            .where(AuditEvent.detail.startswith(f"alert={alert_id} "))
            .order_by(AuditEvent.id)
        ).all()
        changed = s.exec(
            select(AuditEvent.actor_id, AuditEvent.detail).where(
                AuditEvent.action == "protocol_changed",
                AuditEvent.target == "escalate_urgent_minutes",
            )
        ).all()
        by = {uid: email for email, uid in ids.items()}
        return {
            "alert": [(e.action, by.get(e.actor_id), e.detail) for e in rows],
            "protocol": [(by.get(actor), detail) for actor, detail in changed],
        }

    return with_db(db_url, work)


def test_an_unacknowledged_urgent_alert_escalates_to_the_clinic_and_is_resolved(
    browser, app_url, app_db_url, app_push_service, desktop, phone
):
    service = app_push_service
    make_clinic(app_db_url, name="Harbour Lane", slug="harbour-lane", staff=STAFF)
    dosing_id = invite_client_of_sam(
        app_db_url,
        email=CLIENT,
        name=CLIENT_NAME,
        password=PASSWORD,
        dosed_hours_ago=25,
        clinician=NOOR,
    )
    phones = _register_phones(app_db_url, app_url, service)
    tablet_context = browser.new_context(base_url=app_url, **TABLET)
    try:
        tablet = tablet_context.new_page()
        sign_in(tablet, INES, STAFF_PASSWORD)
        _set_urgent_minutes(tablet, 20)
        _open_inbox(tablet)
        sign_in(desktop, NOOR, STAFF_PASSWORD)
        _open_inbox(desktop)

        _send_urgent_report(phone, dosing_id)
        alert_id = with_db(app_db_url, lambda s: _alert_of_client(s).id)
        rows = {
            name: page.locator(f'.kj-inbox-alert[data-alert="{alert_id}"]')
            for name, page in (("desktop", desktop), ("tablet", tablet))
        }
        for row in rows.values():
            expect(row).to_have_attribute("data-status", "open")
            expect(row).to_contain_text(CLIENT_NAME)
        # The worker is ticking: Noor's phone had the raise-time push for her client.
        assert _wait_for_pushes(service, {NOOR: phones[NOOR]}, "kj-inbox")[NOOR]

        _age(app_db_url, 16)  # past the default 15 minutes, short of the clinic's 20
        time.sleep(8)  # four of the worker's ticks
        assert with_db(app_db_url, lambda s: _alert_of_client(s).escalated_at) is None
        assert not any(_pushes(service, p, ESCALATED_TAG) for p in phones.values())

        _age(app_db_url, 21)
        for row in rows.values():
            expect(row.locator(".kj-escalated")).to_be_visible(timeout=30_000)
            expect(row).to_have_attribute("data-status", "open")
        for size, page in (("desktop", desktop), ("tablet", tablet)):
            assert page.evaluate("window.__kjSamePage === true"), f"the {size} inbox reloaded"
            check_page(page, f"escalation-{size}-01-escalated")

        got = _wait_for_pushes(service, phones, ESCALATED_TAG)
        message = MESSAGES[ALERT_ESCALATED]
        for email, deliveries in got.items():
            assert len(deliveries) == 1, email
            [push] = deliveries
            assert (push.payload["title"], push.payload["body"]) == (message.title, message.body)
            assert set(push.payload) == {"title", "body", "url", "tag", "id"}
            assert (push.payload["url"], push.urgency) == (ALERTS, "high")
            shown = f"{push.payload['title']} {push.payload['body']}".lower()  # a lock screen
            words = [*FORBIDDEN, "quinn", "abernathy", "detach", "dissociat", "urgent"]
            assert [w for w in words if w in shown] == [], email

        # Part of the client page: Noor resolves it from Quinn's Alerts panel, with an outcome.
        rows["desktop"].get_by_role("link", name=CLIENT_NAME).click()
        expect(desktop.locator("#client-name")).to_have_text(CLIENT_NAME)
        alert = desktop.locator("#alerts-panel .kj-alert").first
        expect(alert.locator(".kj-escalated")).to_be_visible()
        alert.get_by_role("button", name="Resolve").click()
        resolve_in_dialog(
            desktop,
            form="resolve",
            outcome="referred",
            note="Called her; urgent GP review booked today.",
            name="escalation-desktop-02-resolve-on-client-page",
        )
        expect(alert).to_have_attribute("data-status", "resolved")
        check_page(desktop, "escalation-desktop-03-resolved")
        expect(rows["tablet"]).to_have_count(0, timeout=20_000)  # gone from Ines's open inbox
    finally:
        tablet_context.close()

    assert _audited(app_db_url, alert_id) == {
        "alert": [
            ("alert_escalated", None, f"alert={alert_id} staff=3"),
            ("alert_resolved", NOOR, f"alert={alert_id} outcome=referred"),
        ],
        "protocol": [(INES, "15->20")],
    }

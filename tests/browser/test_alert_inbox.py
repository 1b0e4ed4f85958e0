"""The alert inbox at desktop (1280x800) and tablet (820x1180) sizes: Sam has his inbox open
when a client of his sends an urgent after-session report; it appears without a reload. He
acknowledges it and resolves it with an outcome and a note; both steps are in the audit log,
named by alert id. axe-core finds no serious problems; screenshots are kept.

Each client is invited by Sam for her test alone, with a session 25 hours ago, and sends her
report through the symptom service on the server's database, as her phone's request would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import Alert, AuditEvent, User
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.seed import STAFF_PASSWORD
from kapjourney.services import symptoms
from tests.browser.conftest import DESKTOP, serious_violations, shot, sign_in
from tests.browser.people import SAM, invite_client_of_sam

PASSWORD = "harbour lamp morning"
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2, "has_touch": True}
SIZES = {"desktop": DESKTOP, "tablet": TABLET}


@pytest.fixture(params=sorted(SIZES))
def screen(request, browser, app_url):
    context = browser.new_context(base_url=app_url, **SIZES[request.param])
    page = context.new_page()
    yield request.param, page
    context.close()


def _send_urgent_report(db_url: str, email: str, dosing_id: int) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            client = s.exec(select(User).where(User.email == email)).one()
            result = symptoms.submit_report(
                session=s,
                actor=Actor.from_user(client),
                dosing_session_id=dosing_id,
                offset_minutes=1440,
                submission_id=f"inbox-{dosing_id}-0001",
                answers={key: 0 for key, _ in SYMPTOM_ITEMS} | {"urinary": 2},
            )
            assert result.tier == "urgent"
            return s.exec(select(Alert.id).where(Alert.client_id == client.id)).one()
    finally:
        engine.dispose()


def _stored(db_url: str, alert_id: int):
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            alert = s.get(Alert, alert_id)
            sam = s.exec(select(User).where(User.email == SAM)).one()
            audited = s.exec(
                select(AuditEvent.action, AuditEvent.actor_id)
                .where(AuditEvent.detail.startswith(f"alert={alert_id}"))
                .where(AuditEvent.action.in_(("alert_acknowledged", "alert_resolved")))
                .order_by(AuditEvent.id)
            ).all()
            return (
                (alert.status, alert.outcome, alert.acknowledged_by_id == sam.id),
                [(action, actor == sam.id) for action, actor in audited],
            )
    finally:
        engine.dispose()


def _check(page: Page, name: str) -> None:
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    shot(page, name)
    found = serious_violations(page)
    assert found == [], f"{name}: {found}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name} scrolls sideways ({width}px)"


def test_an_urgent_report_reaches_the_open_inbox_and_is_handled(screen, app_db_url):
    size, page = screen
    name = f"Inbox {size.title()}"
    email = f"inbox.{size}@riverbend.example"
    dosing_id = invite_client_of_sam(
        app_db_url, email=email, name=name, password=PASSWORD, dosed_hours_ago=25
    )

    sign_in(page, SAM, STAFF_PASSWORD)
    page.locator("#nav-alerts").click()
    expect(page).to_have_url(re.compile(r"/clinician/alerts/?$"))
    page.mouse.move(640, 760)  # off the nav link: its hover colour is not what axe should judge
    expect(page.locator("#inbox-live")).to_be_visible()
    page.evaluate("window.__kjSamePage = true")  # gone if the page reloads
    rows = page.locator(".kj-inbox-alert").filter(has_text=name)
    expect(rows).to_have_count(0)
    _check(page, f"inbox-{size}-01-before")

    alert_id = _send_urgent_report(app_db_url, email, dosing_id)

    row = page.locator(f'.kj-inbox-alert[data-alert="{alert_id}"]')
    expect(row).to_be_visible(timeout=20_000)
    assert page.evaluate("window.__kjSamePage === true"), "the page reloaded"
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("urgent")
    expect(row).to_contain_text("After-session report")
    _check(page, f"inbox-{size}-02-arrived")

    row.get_by_role("button", name=f"Acknowledge the alert for {name}").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(row).to_contain_text("Acknowledged by Sam Okafor")

    row.get_by_role("button", name=f"Resolve the alert for {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog.locator("#inbox-note-error")).to_contain_text("Write a short note")
    expect(dialog.locator("#inbox-outcome-error")).to_contain_text("Choose what came of it")
    dialog.get_by_label("What came of it").select_option("contacted_client")
    dialog.get_by_label("What was done").fill("Called her; symptoms easing, fluids advised.")
    _check(page, f"inbox-{size}-03-resolve")
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    assert page.evaluate("window.__kjSamePage === true")

    assert _stored(app_db_url, alert_id) == (
        ("resolved", "contacted_client", True),
        [("alert_acknowledged", True), ("alert_resolved", True)],
    )
    _check(page, f"inbox-{size}-04-resolved")

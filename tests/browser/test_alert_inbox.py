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
from playwright.sync_api import expect
from sqlmodel import select

from kapjourney.domain.models import Alert, AuditEvent, User
from kapjourney.seed import STAFF_PASSWORD
from tests.browser.conftest import DESKTOP, sign_in
from tests.browser.journeys import check_page, resolve_in_dialog
from tests.browser.people import SAM, invite_client_of_sam, send_urgent_report, with_db

PASSWORD = "harbour lamp morning"
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2, "has_touch": True}
SIZES = {"desktop": DESKTOP, "tablet": TABLET}


@pytest.fixture(params=sorted(SIZES))
def screen(request, browser, app_url):
    context = browser.new_context(base_url=app_url, **SIZES[request.param])
    page = context.new_page()
    yield request.param, page
    context.close()


def _stored(db_url: str, alert_id: int):
    def work(s):
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

    return with_db(db_url, work)


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
    check_page(page, f"inbox-{size}-01-before")

    alert_id = send_urgent_report(app_db_url, email=email, dosing_id=dosing_id, tag="inbox")

    row = page.locator(f'.kj-inbox-alert[data-alert="{alert_id}"]')
    expect(row).to_be_visible(timeout=20_000)
    assert page.evaluate("window.__kjSamePage === true"), "the page reloaded"
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("urgent")
    expect(row).to_contain_text("After-session report")
    check_page(page, f"inbox-{size}-02-arrived")

    row.get_by_role("button", name=f"Acknowledge the alert for {name}").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(row).to_contain_text("Acknowledged by Sam Okafor")

    row.get_by_role("button", name=f"Resolve the alert for {name}").click()
    resolve_in_dialog(
        page,
        form="inbox",
        outcome="contacted_client",
        note="Called her; symptoms easing, fluids advised.",
        name=f"inbox-{size}-03-resolve",
    )
    expect(row).to_have_count(0)
    assert page.evaluate("window.__kjSamePage === true")

    assert _stored(app_db_url, alert_id) == (
        ("resolved", "contacted_client", True),
        [("alert_acknowledged", True), ("alert_resolved", True)],
    )
    check_page(page, f"inbox-{size}-04-resolved")

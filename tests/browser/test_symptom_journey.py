"""A post-session symptom report at phone size: still feeling detached 24 hours after dosing
raises an urgent alert for the care team and takes the client to the calm support screen.

A fresh client (invited by Sam, so the demo clients' counts other tests rely on hold) has a
session that took place 25 hours ago: arranged through the services on the server's database,
as the clinician would on his pages.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import Alert, SymptomReport
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.routes import report_url
from tests.browser.conftest import DESKTOP, serious_violations, shot, sign_in
from tests.browser.people import invite_client_of_sam

EMAIL = "rowan.ellis@riverbend.example"
PASSWORD = "quiet harbour morning"


def _check_page(page, name: str) -> None:
    shot(page, name)
    assert serious_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"


def _report_and_alerts(db_url: str, dosing_id: int):
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            report = s.exec(
                select(SymptomReport).where(SymptomReport.dosing_session_id == dosing_id)
            ).one()
            alerts = s.exec(
                select(Alert).where(
                    Alert.source_kind == "symptom_report", Alert.source_id == report.id
                )
            ).all()
            return report, list(alerts)
    finally:
        engine.dispose()


def _answer(page, item: str, choice: str) -> None:
    radio = page.locator(f"#item-{item}").get_by_role("radio", name=choice, exact=True)
    radio.click()
    expect(radio).to_be_checked()


def test_persistent_dissociation_at_24_hours_raises_an_urgent_alert_and_shows_support(
    phone, app_db_url
):
    dosing_id = invite_client_of_sam(
        app_db_url, email=EMAIL, name="Rowan Ellis", password=PASSWORD, dosed_hours_ago=25
    )
    sign_in(phone, EMAIL, PASSWORD)
    phone.goto(report_url(dosing_id, 1440))
    expect(phone.get_by_role("heading", name="How are you feeling?")).to_be_visible()
    expect(phone.locator("#report-title")).to_have_text("24 hours after session 1")
    expect(phone.locator(".question")).to_have_count(len(SYMPTOM_ITEMS))
    _check_page(phone, "symptoms-01-form")

    # A slip of the finger gets a message at the field and keeps what was typed.
    systolic = phone.get_by_label("Upper number")
    systolic.fill("300")
    systolic.blur()
    expect(phone.locator("#item-systolic-error")).to_have_text("Enter a number from 60 to 260.")
    expect(systolic).to_have_value("300")
    note = phone.get_by_label("Anything else your care team should know? (optional)")
    note.fill("<script>alert(1)</script> a bit floaty still")
    note.blur()
    _check_page(phone, "symptoms-02-bad-reading")
    systolic.fill("")
    systolic.blur()
    expect(phone.locator("#item-systolic-error")).to_be_hidden()

    for key, _ in SYMPTOM_ITEMS:
        _answer(phone, key, "Mild" if key == "detached" else "None")
    expect(phone.locator("#answered-count")).to_have_text(
        f"{len(SYMPTOM_ITEMS)} of {len(SYMPTOM_ITEMS)} answered"
    )
    # The worrying answer reached the care team as soon as it was saved.
    expect(phone.locator("#report-told")).to_be_visible()
    _check_page(phone, "symptoms-03-answered")

    phone.locator("#report-submit").click()
    expect(phone).to_have_url(re.compile(r"/support/?$"))
    expect(phone.get_by_role("heading", name="Thank you for telling us")).to_be_visible()
    expect(phone.locator("#care-team-told")).to_have_text(
        "Your care team has been told and will contact you."
    )
    expect(phone.locator("#call-crisis-line")).to_have_attribute("href", "tel:988")
    expect(phone.locator("#text-crisis-line")).to_have_attribute("href", "sms:988")
    expect(phone.locator("#emergency-link")).to_have_attribute("href", "tel:911")
    expect(phone.locator("#plan-link")).to_have_attribute("href", "/safety-plan")
    expect(phone.locator("#support")).not_to_contain_text("detached")
    expect(phone.locator("#support")).not_to_contain_text("Grade")
    _check_page(phone, "symptoms-04-support")

    report, alerts = _report_and_alerts(app_db_url, dosing_id)
    assert (report.status, report.triage, report.max_grade) == ("submitted", "urgent", 1)
    assert report.note == "<script>alert(1)</script> a bit floaty still"
    [alert] = alerts
    assert (alert.severity, alert.status, alert.reason_code) == (
        "urgent",
        "open",
        "dissociation_persistent",
    )

    # Back on the report: it says it was sent, and nothing can be sent twice.
    phone.goto(report_url(dosing_id, 1440))
    expect(phone.locator("#report-done")).to_be_visible()
    expect(phone.locator("#report-submit")).to_have_count(0)


def test_staff_read_the_safety_rules_and_an_admin_gets_messages_at_the_field(
    desktop, browser, app_url
):
    from kapjourney.seed import STAFF_PASSWORD

    sign_in(desktop, "maya.chen@riverbend.example", STAFF_PASSWORD)
    desktop.goto("/clinician/safety-rules")
    expect(desktop.locator("#rules-read-only")).to_be_visible()
    expect(desktop.locator(".safety-rule")).to_have_count(14)
    expect(desktop.get_by_role("button", name=re.compile("^Save"))).to_have_count(0)
    shot(desktop, "safety-rules-01-clinician")
    assert serious_violations(desktop) == []

    context = browser.new_context(base_url=app_url, **DESKTOP)
    try:
        _admin_gets_messages(context.new_page(), STAFF_PASSWORD)
    finally:
        context.close()


def _admin_gets_messages(desktop, password: str) -> None:
    sign_in(desktop, "jordan.reyes@riverbend.example", password)
    desktop.goto("/clinician/safety-rules")
    rule = desktop.locator("#rule-pulse_high")
    threshold = rule.get_by_label("Pulse above (beats/min)")
    threshold.fill("<b>1")
    rule.get_by_role("button", name=re.compile("^Save rule")).click()
    expect(desktop.locator("#rule-pulse_high-threshold-error")).to_have_text(
        "Enter a whole number."
    )
    expect(threshold).to_have_value("<b>1")
    emergency = desktop.get_by_label("Emergency number")
    emergency.fill("9-1-1 now")
    desktop.locator("#numbers-save").click()
    expect(desktop.locator("#numbers-emergency_number-error")).to_have_text(
        "Use digits, spaces, dashes and a leading + only."
    )
    expect(emergency).to_have_value("9-1-1 now")
    shot(desktop, "safety-rules-02-admin-messages")
    assert serious_violations(desktop) == []

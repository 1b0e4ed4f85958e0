"""Clinician and admin journeys at desktop size (1280x800), with axe-core and screenshots.

Chris (Maya's client) starts red: screening unreviewed and an open urgent alert. Maya resolves
the alert, reviews the screening and records what she can on his behalf; he ends amber, because
naming a chaperone and setting an intention are his own steps. Dana (all steps done) shows green.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from kapjourney.seed import STAFF_PASSWORD
from tests.browser.conftest import serious_violations, shot, sign_in

MAYA = "maya.chen@riverbend.example"
JORDAN = "jordan.reyes@riverbend.example"
DETAIL_URL = re.compile(r"/clinician/client/\d+/?$")


def _no_axe_problems(page: Page) -> None:
    # Toasts stacked behind the newest one are drawn faded; wait for them to go first.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = serious_violations(page)
    assert found == [], found


def _caseload(page: Page):
    """The caseload as shown at this size: a table on a desk, cards on a phone or tablet."""
    return page.locator("#client-table, #client-cards").filter(visible=True)


def _sign_in(page: Page, email: str) -> None:
    sign_in(page, email, STAFF_PASSWORD)
    # Password hashing is deliberately slow; on a busy 2-core box it can take seconds.
    expect(_caseload(page)).to_be_visible(timeout=20_000)


def _open_client(page: Page, email: str, name: str) -> None:
    _sign_in(page, email)
    _caseload(page).get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(DETAIL_URL)
    expect(page.locator("#client-name")).to_have_text(name)


def _future(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat() + "T10:00"


def _reasons(page: Page):
    return page.locator("#readiness-reasons")


def test_clinician_clears_chris_step_by_step(desktop):
    page = desktop
    _open_client(page, MAYA, "Chris Nguyen")
    light = page.locator("#light")
    expect(light).to_have_attribute("data-level", "red")
    expect(_reasons(page)).to_contain_text("Screening not yet reviewed")
    expect(_reasons(page)).to_contain_text("Open urgent alert")
    _no_axe_problems(page)
    shot(page, "clinician-01-chris-red")

    # Resolve the alert: what came of it and a note are required.
    alerts = page.locator("#alerts-panel")
    alerts.get_by_role("button", name="Resolve").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog.locator("#resolve-note-error")).to_contain_text("Write a short note")
    expect(dialog.locator("#resolve-outcome-error")).to_contain_text("Choose what came of it")
    shot(page, "clinician-02-resolve-note-required")
    dialog.get_by_label("What came of it").select_option("contacted_client")
    dialog.get_by_label("What was done").fill(
        "Called Chris; safety plan reviewed, no current risk."
    )
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog).to_be_hidden()
    expect(alerts.locator(".kj-alert").first).to_have_attribute("data-status", "resolved")
    expect(_reasons(page)).not_to_contain_text("Open urgent alert")
    expect(light).to_have_attribute("data-level", "red")

    # Review the screening: flags are listed for review, never an automatic rejection.
    screening = page.locator("#screening-panel")
    expect(screening.locator("#screening-flags")).to_contain_text("Takes a benzodiazepine")
    expect(screening).to_contain_text("never an automatic rejection")
    screening.get_by_role("button", name="Mark screening reviewed").click()
    expect(screening.locator("#screening-status")).to_contain_text("Reviewed")
    expect(_reasons(page)).not_to_contain_text("Screening not yet reviewed")
    expect(light).to_have_attribute("data-level", "amber")
    shot(page, "clinician-03-chris-amber")

    # The checklist, recorded on his behalf: a high reading turns the light red with the numbers.
    page.get_by_role("button", name="Checklist for session 1").click()
    checklist = page.locator("#checklist-dialog")
    expect(checklist).to_contain_text("Preparation checklist")
    checklist.get_by_label("Systolic (mmHg)").fill("172")
    checklist.get_by_label("Diastolic (mmHg)").fill("96")
    checklist.get_by_label("Pulse (beats/min)").fill("80")
    checklist.get_by_role("button", name="Save reading").click()
    expect(checklist).to_contain_text("Blood pressure 172/96 above the limit 160/100")
    expect(_reasons(page)).to_contain_text("Blood pressure 172/96 above the limit 160/100")
    _no_axe_problems(page)
    shot(page, "clinician-04-checklist-bp-high")
    checklist.get_by_label("Systolic (mmHg)").fill("128")
    checklist.get_by_label("Diastolic (mmHg)").fill("82")
    checklist.get_by_label("Pulse (beats/min)").fill("72")
    checklist.get_by_role("button", name="Save reading").click()
    expect(checklist).to_contain_text("128/82 mmHg, pulse 72")
    for step in (
        "Talk to your prescriber about benzodiazepines",
        "No alcohol or cannabis from 24 hours before",
        r"Stop eating \d+ hours before",
        "Prepare your space",
    ):
        button = checklist.get_by_role("button", name=re.compile("Record as done.*: " + step))
        button.click()
        expect(button).to_have_count(0)
    shot(page, "clinician-05-checklist-recorded")
    checklist.get_by_role("button", name="Close").click()
    # What is left are Chris's own steps, not yet due: amber.
    expect(light).to_have_attribute("data-level", "amber")
    expect(_reasons(page)).to_contain_text("To do: Name your chaperone")
    expect(_reasons(page)).to_contain_text("To do: Set an intention")
    expect(_reasons(page).locator("li")).to_have_count(2)

    # Schedule: a time in the past is refused at the field, then a future one is accepted.
    form = page.locator("#schedule-form")
    expect(form).to_contain_text("Times are in the client's time zone: America/Los_Angeles")
    form.get_by_label("Date and time").fill("2020-01-01T10:00")
    form.get_by_label("Route").select_option("sublingual_lozenge")
    form.get_by_label("At home").check()
    form.get_by_role("button", name="Schedule session").click()
    expect(page.locator("#schedule-local_datetime-error")).to_have_text(
        "Choose a time in the future."
    )
    shot(page, "clinician-06-schedule-past-error")
    form.get_by_label("Date and time").fill(_future(30))
    form.get_by_role("button", name="Schedule session").click()
    rows = page.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#schedule-local_datetime-error")).to_be_hidden()

    # Move it: the past again first, then later.
    page.get_by_role("button", name="Move session 3").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Date and time")).to_have_value(_future(30))
    dialog.get_by_label("Date and time").fill("2020-01-01T10:00")
    dialog.get_by_role("button", name="Move session").click()
    expect(dialog.locator("#move-local_datetime-error")).to_have_text(
        "Choose a time in the future."
    )
    shot(page, "clinician-07-move-past-error")
    dialog.get_by_label("Date and time").fill(_future(40))
    dialog.get_by_label("At the clinic").check()
    dialog.get_by_role("button", name="Move session").click()
    expect(dialog).to_be_hidden()
    expect(rows.nth(2)).to_contain_text("At the clinic")

    # Cancel it, with a reason.
    page.get_by_role("button", name="Cancel session 3").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("Client asked to pause after session 2.")
    dialog.get_by_role("button", name="Cancel session").click()
    expect(dialog).to_be_hidden()
    expect(rows.nth(2)).to_contain_text("Cancelled")
    expect(page.get_by_role("button", name="Move session 3")).to_have_count(0)
    shot(page, "clinician-08-plan-after-cancel")

    # Consent: the signature, its name as text, and the signed PDF.
    consent = page.locator("#consent-panel")
    expect(consent.locator("#consent-state")).to_have_text("Signed: current version")
    expect(consent.locator(".kj-signed-name").first).to_have_text("Chris Nguyen")
    href = consent.locator(".kj-pdf-link").first.get_attribute("href")
    assert href and re.fullmatch(r"/api/consent/\d+\.pdf", href)
    response = page.request.get(href)
    assert response.ok and response.body().startswith(b"%PDF")
    _no_axe_problems(page)
    shot(page, "clinician-09-chris-detail-end")


def test_client_detail_fits_a_phone(phone):
    _open_client(phone, MAYA, "Alex Rivera")
    expect(phone.locator("#readiness-panel")).to_be_visible()
    _no_axe_problems(phone)
    shot(phone, "clinician-10-detail-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the client page scrolls sideways on a phone ({width}px)"


def test_unknown_or_unassigned_client_is_not_found(desktop):
    _sign_in(desktop, MAYA)
    for wanted in ("999999", "abc", "-1"):
        desktop.goto(f"/clinician/client/{wanted}")
        expect(desktop.locator("#client-not-found")).to_be_visible()
    expect(desktop.locator("body")).not_to_contain_text("Traceback")


def test_clinician_reads_the_protocol_but_cannot_edit(desktop):
    _sign_in(desktop, MAYA)
    desktop.locator("#nav-protocol").click()
    expect(desktop.locator("#protocol-read-only")).to_be_visible()
    expect(desktop.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(desktop.get_by_role("button", name="Publish new version")).to_have_count(0)
    expect(desktop.locator("#consent-format-help")).to_be_visible()
    desktop.mouse.move(640, 700)
    _no_axe_problems(desktop)
    shot(desktop, "clinician-11-protocol-read-only")


def test_admin_sees_dana_green_then_edits_protocol_and_consent(desktop):
    page = desktop
    _open_client(page, JORDAN, "Dana Kowalski")
    expect(page.locator("#light")).to_have_attribute("data-level", "green")
    expect(_reasons(page)).to_have_text("Nothing is missing.")
    shot(page, "admin-01-dana-green")

    page.locator("#nav-protocol").click()
    fasting = page.get_by_label("Fasting before a session (hours)")
    expect(fasting).to_have_value("4")
    expect(page.locator("#protocol-form")).to_contain_text("Published default: 4 hours")
    fasting.fill("99")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#protocol-fasting_hours-error")).to_have_text(
        "Enter a whole number from 0 to 12."
    )
    expect(fasting).to_have_value("99")
    _no_axe_problems(page)
    shot(page, "admin-02-protocol-error")
    fasting.fill("6")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Protocol saved.")).to_be_visible()
    expect(page.locator("#protocol-fasting_hours-error")).to_be_hidden()
    page.reload()
    expect(page.get_by_label("Fasting before a session (hours)")).to_have_value("6")

    editor = page.get_by_label("Document text")
    original = editor.input_value()
    assert original.startswith("# ")
    expect(page.locator("#consent-version")).to_contain_text("Version 1")
    editor.fill("Some words before any title.\n## A section\nText.")
    page.get_by_role("button", name="Publish new version").click()
    expect(page.locator("#consent-text-error")).to_contain_text("Start with a title line")
    shot(page, "admin-03-consent-format-error")
    editor.fill(
        original.rstrip("\n")
        + "\n\n## Aftercare\nRest for the remainder of the day.\n"
        + "? May you drive on the day of a session?\n- Yes\n* No\n"
    )
    page.get_by_role("button", name="Publish new version").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Every client must read and sign the new version")
    _no_axe_problems(page)
    shot(page, "admin-04-consent-confirm")
    confirm.get_by_role("button", name="Publish and ask for re-consent").click()
    expect(page.locator("#consent-version")).to_contain_text("Version 2")
    expect(page.locator("#consent-text-error")).to_be_hidden()
    shot(page, "admin-05-consent-published")

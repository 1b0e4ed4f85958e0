"""An after-session report made offline, at phone size: the cached offline page carries the
follow-up that is due (and says when the next one opens), a worrying answer shows the crisis card
at once, the report waits on the phone, and once back online it is stored exactly once with its
alert, and the support message shows. On a shared phone, an entry saved under one account is
refused under another; an entry for something this account does not have fails for good.

Each client is invited by Sam (the demo clinician) for her test alone, with a session that took
place 25 hours ago, arranged through the services on the server's database as Sam would.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.models import Alert, CheckIn, SubmissionReceipt, SymptomReport, User
from kapjourney.domain.safety import SYMPTOM_ITEMS
from tests.browser.conftest import PHONE, serious_violations, shot, sign_in
from tests.browser.people import invite_client_of_sam
from tests.browser.service_worker import (
    ask_worker,
    controlled,
    outbox,
    pwa_ready,
    requeue,
    signed_out_page_ready,
)

PASSWORD = "lantern tide evening"
SAVED = "Saved on this phone. It will send when you are back online."
REPORT_SENT = "Sent. Thank you: your answers are with your care team."
OFFLINE_CARD = "Your answers will reach your care team when you are back online."
TOLD = "Your care team has been told and will contact you."
OTHER_ACCOUNT = "This was saved on this phone under another account, so it was not sent."
NOT_FOUND = "This could not be sent: it was not found for this account."


def _stored(db_url: str, email: str):
    """Her submitted reports, their alerts, her check-ins and her submission receipts."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            client = s.exec(select(User).where(User.email == email)).one()
            reports = s.exec(
                select(SymptomReport).where(
                    SymptomReport.client_id == client.id, SymptomReport.status == "submitted"
                )
            ).all()
            alerts = s.exec(
                select(Alert).where(
                    Alert.client_id == client.id, Alert.source_kind == "symptom_report"
                )
            ).all()
            checkins = s.exec(select(CheckIn).where(CheckIn.client_id == client.id)).all()
            receipts = s.exec(
                select(SubmissionReceipt).where(SubmissionReceipt.client_id == client.id)
            ).all()
            return (
                [(r.offset_minutes, r.triage, r.pulse, r.note) for r in reports],
                [(a.severity, a.status) for a in alerts],
                len(checkins),
                [r.submission_id for r in receipts],
            )
    finally:
        engine.dispose()


def _check_page(page, name: str) -> None:
    shot(page, name)
    assert serious_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"{name} scrolls sideways ({width}px)"


def _answer(report, prefix: str, item: str, choice: str) -> None:
    radio = report.locator(f"#{prefix}-{item}").get_by_role("radio", name=choice, exact=True)
    radio.click()
    expect(radio).to_be_checked()


def test_a_worrying_report_made_offline_shows_help_at_once_and_is_sent_once(phone, app_db_url):
    email = "wren.offline@riverbend.example"
    dosing = invite_client_of_sam(
        app_db_url, email=email, name="Wren Offline", password=PASSWORD, dosed_hours_ago=25
    )
    prefix = f"rep-{dosing}-1440"
    sign_in(phone, email, PASSWORD)
    controlled(phone)
    pwa_ready(phone)  # this start re-fetched the offline page, signed in

    phone.context.set_offline(True)
    phone.goto("/today")
    expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
    # The check-in first; then the follow-up that is due, collapsed; the next one's opening.
    report = phone.locator(f"#{prefix}")
    expect(report).to_be_visible()
    expect(report.locator("summary")).to_contain_text(
        "How are you feeling? (24 hours after session 1)"
    )
    expect(phone.locator(f"#rep-{dosing}-4320")).to_be_hidden()  # due in two days
    expect(phone.locator("#reports-next")).to_contain_text("Your next after-session check opens")
    assert phone.evaluate(
        """() => document.getElementById("offline-checkin")
            .compareDocumentPosition(document.getElementById("offline-reports"))
            & Node.DOCUMENT_POSITION_FOLLOWING"""
    )
    assert "health" not in phone.url and "/today" in phone.url  # nothing in the address
    _check_page(phone, "offline-report-01-collapsed")

    report.locator("summary").click()
    form = report.locator("form")
    expect(form).to_be_visible()
    for key, _ in SYMPTOM_ITEMS[:10]:
        _answer(report, prefix, key, "None")
    note = report.get_by_label("Anything else your care team should know? (optional)")
    note.fill("Hard to sleep, and the dark thoughts came back.")
    pulse = report.get_by_label("Pulse (per minute)")
    pulse.fill("fast")

    # Sending with answers missing and a slip in a reading: messages at the fields, nothing
    # saved, nothing typed lost.
    form.get_by_role("button", name="Send to my care team").click()
    expect(phone.locator(f"#{prefix}-form-error")).to_have_text("5 answers need your attention.")
    expect(phone.locator(f"#{prefix}-chest_pain-error")).to_have_text(
        "Please choose an answer (choose None if you have not had this)."
    )
    expect(phone.locator(f"#{prefix}-pulse-error")).to_have_text(
        "Enter the pulse as a number, like 120."
    )
    expect(pulse).to_have_attribute("aria-invalid", "true")
    expect(pulse).to_have_value("fast")
    expect(note).to_have_value("Hard to sleep, and the dark thoughts came back.")
    assert outbox(phone) == []

    # Thoughts of self-harm: the crisis card shows at once, right there, before anything is sent.
    worry = phone.locator(f"#{prefix}-worry")
    expect(worry).to_be_empty()
    _answer(report, prefix, "self_harm", "Mild")
    expect(worry).to_contain_text(OFFLINE_CARD)
    expect(worry).to_contain_text("If you need help now, call")
    expect(worry).to_have_attribute("role", "alert")
    expect(worry.get_by_role("link", name=re.compile("Emergency"))).to_be_visible()
    expect(worry.locator("a[href^='tel:']").first).to_be_in_viewport()
    _check_page(phone, "offline-report-02-crisis-card")

    for key, _ in SYMPTOM_ITEMS[9:]:
        if key != "self_harm":
            _answer(report, prefix, key, "None")
    pulse.fill("88")
    form.get_by_role("button", name="Send to my care team").click()
    status = phone.locator(f"#{prefix}-status")
    expect(status).to_have_text(SAVED)
    expect(form).to_be_hidden()
    expect(worry).to_contain_text(OFFLINE_CARD)  # the card stays in view
    expect(report.locator(".report-hint")).to_have_text("Saved on this phone")
    _check_page(phone, "offline-report-03-saved")

    [queued] = outbox(phone)
    owner = phone.locator("main").get_attribute("data-owner")
    assert re.fullmatch(r"[0-9a-f]{24}", owner or "")
    answers = {key: 0 for key, _ in SYMPTOM_ITEMS} | {"self_harm": 1}
    assert (queued["kind"], queued["owner"]) == ("symptom_report", owner)
    assert queued["data"] == {
        "dosing_session_id": dosing,
        "offset_minutes": 1440,
        "answers": answers,
        "systolic": None,
        "diastolic": None,
        "pulse": 88,
        "note": "Hard to sleep, and the dark thoughts came back.",
    }
    assert _stored(app_db_url, email) == ([], [], 0, [])

    # Back online: sent once, triaged by the server, and the support message shows.
    phone.context.set_offline(False)
    expect(status).to_contain_text(REPORT_SENT, timeout=30_000)
    expect(status).to_contain_text(TOLD)
    expect(status.get_by_role("link", name=re.compile("Emergency"))).to_be_visible()
    expect(worry).to_be_empty()  # the support message takes its place
    _check_page(phone, "offline-report-04-sent-support")
    stored = (
        [(1440, "urgent", 88, "Hard to sleep, and the dark thoughts came back.")],
        [("urgent", "open")],
        0,
        [queued["submission_id"]],
    )
    assert _stored(app_db_url, email) == stored
    assert outbox(phone) == [] and outbox(phone, "failed") == []

    # The same entry replayed again changes nothing on the server.
    requeue(phone, queued)
    assert ask_worker(phone, {"type": "flush"}) == {"sent": 1, "failed": 0, "pending": 0}
    assert _stored(app_db_url, email) == stored

    # After signing out, the cached offline page is the signed-out one (no follow-ups, no tag).
    phone.goto("/today")
    pwa_ready(phone)
    signed_out_page_ready(phone)  # the app start re-fetched the offline page
    cached = phone.evaluate(
        """async () => {
            const hit = await caches.match("/offline.html");
            return hit ? await hit.text() : "";
        }"""
    )
    assert "You are offline" in cached
    assert "data-owner" not in cached and "rep-" not in cached


def test_on_a_shared_phone_an_entry_never_reaches_another_account(browser, app_url, app_db_url):
    first, second = "ivy.shared@riverbend.example", "jude.shared@riverbend.example"
    invite_client_of_sam(app_db_url, email=first, name="Ivy Shared", password=PASSWORD)
    invite_client_of_sam(app_db_url, email=second, name="Jude Shared", password=PASSWORD)
    context = browser.new_context(base_url=app_url, **PHONE)
    try:
        phone = context.new_page()
        sign_in(phone, first, PASSWORD)
        controlled(phone)
        pwa_ready(phone)

        # Ivy saves a check-in offline; her sign-in then ends without signing out (it expired).
        context.set_offline(True)
        phone.goto("/checkin")
        checkin = phone.locator("#offline-checkin")
        checkin.locator("#scale-mood").get_by_role("radio", name="Good", exact=True).click()
        checkin.locator("#scale-anxiety").get_by_role("radio", name="Calm", exact=True).click()
        checkin.locator("#scale-sleep").get_by_role("radio", name="Okay", exact=True).click()
        checkin.get_by_role("button", name="Save check-in").click()
        expect(phone.locator("#offline-status")).to_have_text(SAVED)
        [queued] = outbox(phone)
        assert queued["owner"] == phone.locator("main").get_attribute("data-owner")
        context.clear_cookies()
        context.set_offline(False)
        phone.wait_for_timeout(500)  # the online flush: signed out (401), so it waits
        assert len(outbox(phone)) == 1

        # Jude opens the app on the same phone and signs in: the app start replays the queue
        # under his sign-in. (In a new tab: in the old one, the sign-in button is still busy
        # from Ivy's sign-in.)
        phone.close()
        phone = context.new_page()
        sign_in(phone, second, PASSWORD)
        controlled(phone)
        pwa_ready(phone)
        expect(phone.locator("#kj-sync-status")).to_have_text(OTHER_ACCOUNT)
        shot(phone, "offline-report-05-other-account")
        [failed] = outbox(phone, "failed")
        assert failed["submission_id"] == queued["submission_id"]
        assert failed["errors"] == {"form": OTHER_ACCOUNT}
        assert outbox(phone) == []
        assert _stored(app_db_url, first)[2:] == (0, [])
        assert _stored(app_db_url, second)[2:] == (0, [])

        # Something this account does not have is not found, for good: never retried.
        item = {
            "kind": "symptom_report",
            "submission_id": "0f1e2d3c-aaaa-4bbb-8ccc-000000000404",
            "captured_at": now().isoformat(),
            "data": {"dosing_session_id": 2_000_000_000, "offset_minutes": 1440, "answers": {}},
        }
        assert ask_worker(phone, {"type": "queue", "item": item})["queued"] is True
        ask_worker(phone, {"type": "flush"})  # (Background Sync may have sent it already)
        assert ask_worker(phone, {"type": "status"}) == {"pending": 0, "failed": 2}
        failures = {f["submission_id"]: f["errors"] for f in outbox(phone, "failed")}
        assert failures[item["submission_id"]] == {"form": NOT_FOUND}
    finally:
        context.close()

"""Client journey I at phone size: consent, screening, the plan and preparing for a session.

A fresh client joins by invite (their clinician creates it at desktop size), signs consent
end to end (one wrong comprehension answer shows its section again), completes screening, sees
the plan, and, once a session is scheduled, works through its checklist with hostile and
out-of-range input. Scheduling is arranged through the service layer on the server's own
database, since no client page schedules sessions.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.models import DosingSession, User
from kapjourney.domain.schemas import Actor, SessionSchedule
from kapjourney.seed import CLIENT_PASSWORD, STAFF_PASSWORD
from kapjourney.services.plan import schedule_session
from tests.browser.conftest import serious_violations, shot, sign_in

# New clients are invited by Sam, so the seeded counts other tests rely on (Maya has 4) hold.
SAM = "sam.okafor@riverbend.example"
ALEX = "alex@riverbend.example"
HOSTILE = "<script>alert(1)</script><b>x</b>"
PASSWORD = "maple river lantern"
# The default consent document's questions: the right answer to each, in order.
RIGHT = [
    "Psychotherapy with supervised ketamine dosing sessions",
    "About an hour, fading within one to two hours",
    "Tell my care team straight away",
    "The next day, after a night's sleep",
    "Yes, at any time, even right before a dose",
]


def _check_page(page, name: str) -> None:
    """Screenshot, axe-core and no sideways scrolling at 390px: for every step."""
    shot(page, name)
    assert serious_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"


def _join_as_new_client(desktop, phone, name: str, email: str) -> None:
    sign_in(desktop, SAM, STAFF_PASSWORD)
    expect(desktop.locator("#client-table")).to_be_visible()
    desktop.get_by_role("button", name="Invite a client").click()
    dialog = desktop.get_by_role("dialog")
    dialog.get_by_label("Full name").fill(name)
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_role("button", name="Create invite").click()
    link = dialog.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"/invite#"))
    phone.goto(link.input_value())
    phone.get_by_label("New password").fill(PASSWORD)
    phone.get_by_label("Type it again").fill(PASSWORD)
    phone.get_by_role("button", name="Join my clinic").click()
    expect(phone).to_have_url(re.compile(r"/today/?$"))


def _schedule_tomorrow(db_url: str, email: str) -> int:
    """What the clinician will do on his pages: a session at home tomorrow at 10:00."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as session:
            sam = session.exec(select(User).where(User.email == SAM)).one()
            client = session.exec(select(User).where(User.email == email)).one()
            day = now().astimezone(ZoneInfo(client.timezone)).date() + timedelta(days=1)
            plan = schedule_session(
                session=session,
                actor=Actor.from_user(sam),
                client_id=client.id,
                data=SessionSchedule(
                    local_datetime=f"{day.isoformat()}T10:00",
                    route="sublingual_lozenge",
                    setting="at_home",
                ),
            )
            return plan.sessions[0].dosing_session_id
    finally:
        engine.dispose()


def _answer(page, item: str, choice: str) -> None:
    page.locator(f"#item-{item}").get_by_role("radio", name=choice, exact=True).click()
    expect(
        page.locator(f"#item-{item}").get_by_role("radio", name=choice, exact=True)
    ).to_be_checked()


def _sign_consent(phone) -> None:
    phone.locator("#consent-link").click()
    expect(phone).to_have_url(re.compile(r"/consent/?$"))
    expect(phone.locator("#consent-progress")).to_have_text("Section 1 of 8")
    _check_page(phone, "journey-01-consent-section")
    for n in range(1, 9):
        expect(phone.locator("#consent-progress")).to_have_text(f"Section {n} of 8")
        phone.get_by_role("button", name="I understand — next").click()

    expect(phone.get_by_role("heading", name="A few questions")).to_be_visible()
    for i, right in enumerate(RIGHT):
        choice = "As soon as I feel normal" if i == 3 else right
        phone.locator(f"#question-{i}").get_by_role("radio", name=choice).click()
    phone.get_by_role("button", name="Check my answers").click()
    wrong = phone.locator("#question-3")
    expect(wrong).to_contain_text("Not quite")
    expect(wrong.locator(".reread")).to_contain_text("Before and after every session")
    expect(wrong.locator(".reread")).to_contain_text("Do not drive")
    expect(phone.locator(".reread")).to_have_count(1)
    _check_page(phone, "journey-02-consent-wrong-answer")

    wrong.get_by_role("radio", name=RIGHT[3]).click()
    phone.get_by_role("button", name="Check my answers").click()
    expect(phone.get_by_role("heading", name="Sign your consent")).to_be_visible()
    expect(phone.locator("#consent-fingerprint")).to_contain_text(re.compile(r"[0-9a-f]{12}"))
    phone.get_by_role("button", name="Sign", exact=True).click()
    expect(phone.locator("#consent-sign-full_name-error")).to_have_text(
        "Type your full name to sign."
    )
    _check_page(phone, "journey-03-consent-sign")
    phone.get_by_label("Type your full name to sign").fill("Jamie Lee")
    phone.get_by_role("button", name="Sign", exact=True).click()
    expect(phone.locator("#consent-signed")).to_contain_text("as Jamie Lee")
    expect(phone.locator("#consent-signed")).to_contain_text("version 1")
    pdf = phone.get_by_role("link", name="Download your signed consent (PDF)")
    expect(pdf).to_have_attribute("href", re.compile(r"^/api/consent/\d+\.pdf$"))
    expect(pdf).to_have_attribute("download", "")
    reply = phone.request.get(pdf.get_attribute("href"))  # with this phone's session cookie
    assert reply.ok and reply.headers["content-type"] == "application/pdf"
    assert reply.body().startswith(b"%PDF")
    _check_page(phone, "journey-04-consent-signed")


def _screen(phone) -> None:
    phone.goto("/screening")
    expect(phone.locator(".screening-task")).to_have_count(3)
    _check_page(phone, "journey-05-screening-tasks")

    phone.get_by_role("link", name=re.compile("Health screening")).click()
    expect(phone.get_by_role("heading", name="Health screening")).to_be_visible()
    for item in ("pregnancy", "psychosis", "mania", "blood_pressure", "substance_use"):
        _answer(phone, item, "No")
    _answer(phone, "benzodiazepines", "Yes")
    _answer(phone, "bladder", "No")
    phone.locator("#item-medicines-input").fill("Sertraline 50 mg")
    phone.locator("#item-medicines-input").blur()
    expect(phone.locator("#answered-count")).to_have_text("7 of 7 answered")
    _check_page(phone, "journey-06-intake")
    phone.get_by_role("button", name="Submit").click()
    expect(phone.locator("#q-done")).to_be_visible()
    expect(phone.locator("#q-score")).to_have_count(0)

    phone.goto("/screening/phq9")
    _answer(phone, "q1", "Several days")
    _answer(phone, "q2", "Not at all")
    phone.get_by_role("button", name="Submit").click()
    expect(phone.locator("#item-q3-problem")).to_have_text("Please answer this question.")
    expect(phone.locator("#item-q9-problem")).to_have_text("Please answer this question.")
    expect(phone.locator("#item-q1-problem")).to_be_hidden()
    expect(phone.locator("#item-q3")).to_be_in_viewport()
    _check_page(phone, "journey-07-phq9-missing")
    phone.reload()  # nothing is lost: the answers so far come back from the draft
    expect(phone.locator("#item-q1").get_by_role("radio", name="Several days")).to_be_checked()
    for item in ("q3", "q4", "q5", "q6", "q7", "q8", "q9"):
        _answer(phone, item, "Not at all")
    expect(phone.locator("#answered-count")).to_have_text("9 of 9 answered")
    expect(phone.locator("#crisis-callout")).to_have_count(0)
    phone.get_by_role("button", name="Submit").click()
    expect(phone.locator("#q-score")).to_contain_text("1 of 27")
    expect(phone.locator("#questionnaire")).to_contain_text("not a diagnosis")
    expect(phone.locator("#crisis-callout")).to_have_count(0)
    _check_page(phone, "journey-08-phq9-result")

    phone.goto("/screening/gad7")
    for n in range(1, 8):
        _answer(phone, f"q{n}", "Several days")
    phone.get_by_role("button", name="Submit").click()
    expect(phone.locator("#q-score")).to_contain_text("7 of 21")

    phone.goto("/screening")
    expect(phone.locator("#screening-status")).to_contain_text("All done")
    expect(phone.locator(".screening-task[data-status='done']")).to_have_count(3)


def _prepare(phone, dosing_id: int) -> None:
    dialogs: list[str] = []
    phone.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    phone.goto(f"/prepare/{dosing_id}")
    card = phone.locator("#session-card")
    expect(card).to_contain_text("Session 1")
    expect(card).to_contain_text("Tomorrow")
    expect(card).to_contain_text("Stop eating and drinking at")
    reasons = phone.locator("#readiness-reasons")
    expect(reasons).to_contain_text("Name your chaperone")
    expect(phone.locator("#checklist")).to_contain_text("Overdue")  # due 48 hours before
    _check_page(phone, "journey-10-prepare")

    chaperone = phone.locator(".check-item", has_text="Name your chaperone")
    chaperone.get_by_label("Chaperone's name").fill(HOSTILE)
    chaperone.get_by_label("Their phone number").fill("555 010 0142")
    chaperone.get_by_role("button", name=re.compile("Mark as done")).click()
    expect(chaperone.locator(".summary")).to_have_text(f"{HOSTILE} · 555 010 0142")
    expect(reasons).not_to_contain_text("Name your chaperone")

    intention = phone.locator(".check-item", has_text="Set an intention")
    intention.get_by_label("Your words").fill(HOSTILE)
    intention.get_by_role("button", name=re.compile("Mark as done")).click()
    expect(intention.locator(".summary")).to_have_text(HOSTILE)
    intention.get_by_role("button", name=re.compile("Undo")).click()  # undo keeps the words
    expect(intention.get_by_label("Your words")).to_have_value(HOSTILE)
    intention.get_by_role("button", name=re.compile("Mark as done")).click()
    expect(intention.locator(".summary")).to_have_text(HOSTILE)

    vitals = phone.locator(".check-item", has_text="Record your blood pressure")
    vitals.get_by_label("Systolic (upper)").fill("400")
    vitals.get_by_label("Diastolic (lower)").fill("80")
    vitals.get_by_label("Pulse (beats a minute)").fill("72")
    vitals.get_by_role("button", name=re.compile("Mark as done")).click()
    systolic = vitals.get_by_label("Systolic (upper)")
    expect(vitals.locator("[id$='-systolic-error']")).to_contain_text("outside the range")
    expect(systolic).to_have_attribute("aria-invalid", "true")
    expect(systolic).to_have_value("400")
    expect(vitals.get_by_label("Pulse (beats a minute)")).to_have_value("72")
    _check_page(phone, "journey-11-prepare-bp-refused")
    systolic.fill("128")
    vitals.get_by_role("button", name=re.compile("Mark as done")).click()
    expect(vitals.locator(".summary")).to_have_text("128/80 mmHg, pulse 72")

    # Hostile text is shown as text: no dialog fired, no element made from it.
    assert dialogs == []
    expect(phone.locator("#checklist b")).to_have_count(0)
    expect(phone.locator("#checklist script")).to_have_count(0)
    expect(phone.locator("#readiness")).to_have_attribute("data-level", re.compile("red|amber"))
    expect(reasons).to_contain_text("Your clinician is still to review your screening")
    _check_page(phone, "journey-12-prepare-done")


def _finish_preparing(phone) -> None:
    """Tick the steps that carry no value; only the clinician's review is left (red)."""
    for step in (
        "Talk to your prescriber about benzodiazepines",
        "Prepare your space",
        "No alcohol or cannabis from 24 hours before",
        "Stop eating",
    ):
        item = phone.locator(".check-item", has_text=step)
        item.get_by_role("button", name=re.compile("Mark as done")).click()
        expect(item.get_by_role("button", name=re.compile("Undo"))).to_be_visible()
    reasons = phone.locator("#readiness-reasons")
    expect(phone.locator("#readiness")).to_have_attribute("data-level", "red")
    expect(reasons).to_contain_text("Your clinician is still to review your screening")
    expect(reasons.locator("li")).to_have_count(1)
    _check_page(phone, "journey-12b-only-review-left")


def _clinician_reviews_and_sees_green(desktop, name: str) -> None:
    """The clinician (already signed in) sees red with its one reason, reviews: green."""
    desktop.goto("/clinician")
    expect(desktop.locator("#client-table")).to_be_visible()
    shot(desktop, "journey-15a-clients")
    desktop.locator("#client-table").get_by_role("link", name=name).click()
    light = desktop.locator("#light")
    expect(light).to_have_attribute("data-level", "red")
    reasons = desktop.locator("#readiness-reasons")
    expect(reasons).to_contain_text("Screening not yet reviewed")
    expect(reasons.locator("li")).to_have_count(1)
    shot(desktop, "journey-15-clinician-red")
    desktop.locator("#screening-panel").get_by_role(
        "button", name="Mark screening reviewed"
    ).click()
    expect(light).to_have_attribute("data-level", "green")
    expect(reasons).to_have_text("Nothing is missing.")
    shot(desktop, "journey-16-clinician-green")


def test_new_client_signs_consent_screens_and_prepares(desktop, phone, app_db_url):
    email = "jamie.lee@riverbend.example"
    _join_as_new_client(desktop, phone, "Jamie Lee", email)
    expect(phone.locator("#consent-card")).to_be_visible()
    expect(phone.locator("#screening-card")).to_be_visible()
    _check_page(phone, "journey-00-today-new")

    _sign_consent(phone)
    _screen(phone)

    phone.goto("/plan")
    expect(phone.locator("#plan-stages")).to_contain_text("Signed")
    expect(phone.locator("#plan-stages")).to_contain_text("Waiting for review")
    expect(phone.locator("#plan-sessions")).to_contain_text("No sessions are scheduled yet")
    _check_page(phone, "journey-09-plan-before")

    dosing_id = _schedule_tomorrow(app_db_url, email)
    phone.goto("/plan")
    session = phone.locator(".plan-session").first
    expect(session).to_contain_text("Session 1")
    expect(session.locator(".kj-readiness")).to_be_visible()
    expect(phone.locator("#next-action")).to_contain_text("Prepare for session 1")
    _check_page(phone, "journey-09-plan-scheduled")

    _prepare(phone, dosing_id)
    _finish_preparing(phone)
    _clinician_reviews_and_sees_green(desktop, "Jamie Lee")

    # Back on the phone, the same session has turned green.
    phone.goto(f"/prepare/{dosing_id}")
    expect(phone.locator("#readiness")).to_have_attribute("data-level", "green")
    expect(phone.locator("#readiness-reasons")).to_have_count(0)
    _check_page(phone, "journey-14-prepare-green")

    phone.goto("/today")
    expect(phone.locator("#consent-card")).to_have_count(0)
    expect(phone.locator("#screening-card")).to_have_count(0)
    expect(phone.locator("#next-session")).to_contain_text("Session 1")
    expect(phone.locator("#next-session .kj-readiness")).to_be_visible()
    expect(phone.locator("#prepare-link")).to_have_attribute("href", f"/prepare/{dosing_id}")
    _check_page(phone, "journey-13-today-prepared")


def test_phq9_item9_above_zero_shows_crisis_resources_at_once(desktop, phone):
    _join_as_new_client(desktop, phone, "Kai Moreno", "kai.moreno@riverbend.example")
    phone.goto("/screening/phq9")
    expect(phone.locator("#item-q9")).to_be_visible()
    _answer(phone, "q9", "Several days")
    callout = phone.locator("#crisis-callout")
    expect(callout).to_be_visible()  # at once, before submitting
    expect(callout.get_by_role("link", name=re.compile("Call 988"))).to_have_attribute(
        "href", "tel:988"
    )
    expect(callout.get_by_role("link", name=re.compile("Text 988"))).to_have_attribute(
        "href", "sms:988"
    )
    expect(callout.get_by_role("link", name=re.compile("Call your clinic"))).to_have_attribute(
        "href", re.compile(r"^tel:.*555")
    )
    expect(callout.get_by_role("link", name="More ways to get help now")).to_have_attribute(
        "href", "/crisis"
    )
    expect(callout).not_to_contain_text(re.compile("score|severe|moderate", re.IGNORECASE))
    _check_page(phone, "crisis-phq9-item9")


def _dosing_of(db_url: str, email: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as session:
            client = session.exec(select(User).where(User.email == email)).one()
            found = session.exec(
                select(DosingSession.id).where(DosingSession.client_id == client.id)
            ).first()
            assert found is not None
            return found
    finally:
        engine.dispose()


def test_alex_sees_readiness_on_today_and_unknown_ids_are_not_found(phone, app_db_url):
    danas = _dosing_of(app_db_url, "dana@riverbend.example")
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    card = phone.locator("#next-session")
    expect(card).to_contain_text("Session 3 of 6")
    expect(card.locator(".kj-readiness")).to_have_attribute("data-level", "amber")
    expect(card).to_contain_text("On track")
    expect(phone.locator("#consent-card")).to_have_count(0)
    # No phone of Alex's takes reminders yet: Today offers them, once, quietly.
    expect(phone.locator("#reminders-offer")).to_have_attribute("href", "/settings")
    _check_page(phone, "today-alex-readiness")

    phone.locator("#prepare-link").click()
    expect(phone.locator("#session-card")).to_contain_text("Session 3")
    expect(phone.locator(".check-item[data-done='true']")).to_have_count(2)
    _check_page(phone, "prepare-alex")

    phone.goto("/consent")
    expect(phone.locator("#consent-signed")).to_contain_text("Alex Rivera")
    _check_page(phone, "consent-alex-signed")

    for path in ("/prepare/abc", "/prepare/999999", f"/prepare/{danas}", "/screening/nope"):
        phone.goto(path)
        expect(phone.locator("#not-found")).to_be_visible()
    _check_page(phone, "not-found")

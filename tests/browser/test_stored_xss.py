"""Stored XSS (S8): hostile text from a client is shown to her care team as text, never run.

Xena, a client of Sam's made for this test alone, carries a payload in every free-text field she
has: her display name (as Sam typed it into the invite), the consent signature, the intake's
free-text answer (2,000 characters, its most), her check-in note (typed on her phone, through
the page; first 10,000 characters long, which the page refuses at the field), an after-session
symptom report note (a worrying one, so an alert is raised), every step of her safety plan and
a journal exercise. Everything but the check-in goes in through the services on the server's
database, as her phone's requests would.

Sam then opens every view that shows them: the caseload dashboard, her page (all panels), the
alert inbox, and her exports read as text. Each payload would set ``window.__xss`` or fetch
from the canary host if it ran. The test fails on any dialog, any request to the canary host,
``window.__xss`` set, or an element carrying an inline handler; and the payloads must be on
screen (and in the exports) literally.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.exercises import SAFETY_STEPS
from kapjourney.domain.models import User
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.routes import client_url, export_urls
from kapjourney.seed import STAFF_PASSWORD
from kapjourney.services import exercises, safety_plan, screening, symptoms
from kapjourney.services.consent import current_document
from kapjourney.services.validation import clean_text
from tests.browser.conftest import DESKTOP, serious_violations, shot, sign_in
from tests.browser.log_scan import PHI_CANARY
from tests.browser.people import SAM, invite_client_of_sam
from tests.journey_support import answer_form, calm_answers, sign_consent

EMAIL = "xena.xss@riverbend.example"
PASSWORD = "quiet ember harbour"
CANARY_HOST = "xss-canary.invalid"
NAME = '"><img src=x onerror="window.__xss=1">Xena'  # 42 characters, one line
PAYLOADS = [
    "<script>window.__xss=1</script>",
    f'<img src="https://{CANARY_HOST}/i.png" onerror="window.__xss=1">',
    '<svg onload="window.__xss=1"><circle r="1"></circle></svg>',
    "javascript:window.__xss=1//",
    f'"><iframe src="https://{CANARY_HOST}/f" onload="window.__xss=1"></iframe>',
    "${window.__xss=1}`${alert(1)}`",
    '{{constructor.constructor("window.__xss=1")()}}',
    '<a href="javascript:window.__xss=1">dangerouslySetInnerHTML</a>',
    "\u202etxt.exe\u202c right-to-left",
    "emoji \U0001f9e0\U0001f48a \U0001f469\U0001f3fd\u200d\u2695\ufe0f",
]
# As stored and shown: the services drop control and format characters (the RTL override, and
# also the zero-width joiner inside the emoji sequence).
STORED = [clean_text(p, max_length=1_000) for p in PAYLOADS]
LONG = ("<b>10k</b>" + "x" * 10_000)[:10_000]  # typed into the note: refused, kept as typed
MEDICINES = ("<b>2k</b><img src=x onerror=window.__xss=1>" + "x" * 2_000)[:2_000]  # the most
# The check-in note (500 characters at most), with a canary the server log must never hold.
NOTE = f"{PHI_CANARY}{uuid.uuid4().hex[:12]} " + " | ".join(PAYLOADS[:4])
SIGNED = "Xena <script>window.__xss=1</script>"


def _arrange(db_url: str, dosing_id: int) -> None:
    """What Xena writes from her phone (and Sam's assignment of her journal)."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            xena = Actor.from_user(s.exec(select(User).where(User.email == EMAIL)).one())
            sam = Actor.from_user(s.exec(select(User).where(User.email == SAM)).one())
            # The clinic's current version: another test in this session may have published one.
            document = current_document(s, xena.clinic_id)
            sign_consent(xena, name=SIGNED, text=document.source_text, session=s)
            answer_form(xena, "intake", calm_answers("intake") | {"medicines": MEDICINES}, s)
            screening.submit_form(session=s, actor=xena, instrument="intake")
            for step, payload in zip(SAFETY_STEPS, PAYLOADS, strict=False):
                safety_plan.save_safety_plan_step(
                    session=s, actor=xena, step=step.key, text=payload
                )
            exercises.assign_exercise(
                session=s,
                actor=sam,
                client_id=xena.user_id,
                exercise="journal",
                due_date=(date.today() + timedelta(days=3)).isoformat(),
            )
        with db.session_scope(engine) as s:
            assignment_id = next(
                e.assignment_id for e in exercises.list_exercises(session=s, actor=xena)
            )
            exercises.complete_exercise(
                session=s, actor=xena, assignment_id=assignment_id, text="\n".join(PAYLOADS)
            )
            result = symptoms.submit_report(
                session=s,
                actor=xena,
                dosing_session_id=dosing_id,
                offset_minutes=1440,
                submission_id="xss-report-0001",
                answers={key: 0 for key, _ in SYMPTOM_ITEMS} | {"urinary": 2},
                note="\n".join(PAYLOADS[4:]),
            )
            assert result.tier == "urgent"
    finally:
        engine.dispose()


class _Watch:
    """Fails the test on a dialog or a request to the canary host, for one page."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.canary: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda r: CANARY_HOST in r.url and self.canary.append(r.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self, page: Page, where: str) -> None:
        page.wait_for_timeout(500)  # let any handler that would fire, fire
        assert self.dialogs == [], f"{where}: a dialog opened: {self.dialogs}"
        assert self.canary == [], f"{where}: the canary host was fetched: {self.canary}"
        assert page.evaluate("window.__xss") is None, f"{where}: a payload ran"
        inline = page.evaluate(
            "document.querySelectorAll('[onerror],[onload],[onclick],iframe').length"
        )
        assert inline == 0, f"{where}: {inline} elements carry inline handlers or are frames"


def _shows(page: Page, texts: list[str], where: str) -> None:
    body = page.locator("body").inner_text()
    missing = [t[:40] for t in texts if t not in body]
    assert missing == [], f"{where}: not shown literally: {missing}"


def test_hostile_text_reaches_the_care_team_as_text(browser, app_url, app_db_url, phone):
    dosing_id = invite_client_of_sam(
        app_db_url, email=EMAIL, name=NAME, password=PASSWORD, dosed_hours_ago=25
    )
    _arrange(app_db_url, dosing_id)

    # Her check-in note, typed on her phone.
    watch = _Watch(phone)
    sign_in(phone, EMAIL, PASSWORD)
    phone.goto("/checkin")
    for scale, word in (("mood", "Good"), ("anxiety", "Calm"), ("sleep", "Okay")):
        phone.locator(f"#scale-{scale}").get_by_role("radio", name=word, exact=True).click()
    note = phone.get_by_label("A note for yourself or your care team (optional)")
    note.fill(LONG)
    expect(phone.locator("#checkin-note-count")).to_have_text(re.compile(r"10,?000 / 500"))
    watch.check(phone, "check-in with 10,000 characters")
    note.fill(NOTE)
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Saved for today", exact=False)).to_be_visible()
    watch.check(phone, "check-in")

    context = browser.new_context(base_url=app_url, **DESKTOP)
    page = context.new_page()
    watch = _Watch(page)
    try:
        sign_in(page, SAM, STAFF_PASSWORD)
        page.goto("/clinician")
        expect(page.get_by_text(NAME).first).to_be_visible()
        watch.check(page, "dashboard")

        client_id = _client_id(app_db_url)
        page.goto(client_url(client_id))
        expect(page.get_by_text(PAYLOADS[0]).first).to_be_visible()
        page.wait_for_timeout(1500)  # the panels fill in as their data arrives
        shot(page, "xss-01-client-page")
        watch.check(page, "client page")
        # Panels: header, consent, screening (medicines), report note, history, exercises.
        _shows(page, [NAME, SIGNED, MEDICINES[:200], *STORED], "client page")
        plan = page.locator("textarea").evaluate_all("boxes => boxes.map(b => b.value)")
        assert set(STORED[: len(SAFETY_STEPS)]) <= set(plan), "the safety plan's steps"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"long unbroken text widens the page to {width}px"
        assert serious_violations(page) == []

        page.goto("/clinician/alerts")
        expect(page.get_by_text(NAME).first).to_be_visible()
        shot(page, "xss-02-inbox")
        watch.check(page, "alert inbox")

        for kind, url in export_urls(client_id).items():
            response = page.request.get(url)
            assert response.status == 200, kind
            if kind != "pdf":
                text = response.text()
                assert STORED[0] in text and CANARY_HOST in text, kind
    finally:
        context.close()


def _client_id(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return s.exec(select(User.id).where(User.email == EMAIL)).one()
    finally:
        engine.dispose()

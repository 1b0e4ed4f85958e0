"""Scheduled questionnaires and progress at phone size (390x844).

Eli (integration, weekly PHQ-9 due) answers item 9 "Several days": crisis resources appear at
once, submitting takes him straight to the C-SSRS screener with a calm word about why, and a
"yes" there takes him to the support screen while an urgent alert waits for his clinician.
His progress page draws the 30-day mood chart from his check-in history.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import local_today, now
from kapjourney.domain.models import Alert, CheckIn, QuestionnaireResponse, User
from kapjourney.seed import CLIENT_PASSWORD
from tests.browser.conftest import serious_violations, shot, sign_in

ELI = "eli@riverbend.example"
# Chris owes his weekly PHQ-9 in the demo (Eli sent his this week: the seed's escalated alert).
CHRIS = "chris@riverbend.example"


def _check_page(page, name: str) -> None:
    shot(page, name)
    assert serious_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"


def _answer(page, item: str, label: str) -> None:
    page.locator(f"#item-{item}").get_by_role("radio", name=label, exact=True).click()
    expect(
        page.locator(f"#item-{item}").get_by_role("radio", name=label, exact=True)
    ).to_be_checked()


def _client(db_url: str, email: str) -> User:
    engine = db.make_engine(db_url)
    with db.session_scope(engine) as s:
        user = s.exec(select(User).where(User.email == email)).one()
        s.expunge(user)
    engine.dispose()
    return user


def _arrange_checkins(db_url: str, email: str) -> None:
    """Make sure the last weeks have check-ins (with a gap), whatever the demo seed holds."""
    engine = db.make_engine(db_url)
    with db.session_scope(engine) as s:
        eli = s.exec(select(User).where(User.email == email)).one()
        today = local_today(eli.timezone)
        have = set(s.exec(select(CheckIn.local_date).where(CheckIn.client_id == eli.id)).all())
        for n in range(1, 21):
            day = today - timedelta(days=n)
            if day in have or n in (4, 11):
                continue
            s.add(
                CheckIn(
                    client_id=eli.id,
                    clinic_id=eli.clinic_id,
                    local_date=day,
                    status="submitted",
                    mood=2 + n % 3,
                    anxiety=3,
                    sleep=3,
                    submitted_at=now(),
                )
            )
    engine.dispose()


def _alerts(db_url: str, client_id: int) -> list[tuple[str, str, str]]:
    engine = db.make_engine(db_url)
    with db.session_scope(engine) as s:
        rows = s.exec(
            select(Alert.severity, Alert.reason_code, QuestionnaireResponse.instrument)
            .join(QuestionnaireResponse, QuestionnaireResponse.id == Alert.source_id)
            .where(Alert.client_id == client_id, Alert.source_kind == "questionnaire")
            .where(QuestionnaireResponse.status == "submitted")
            .order_by(Alert.id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_phq9_item9_leads_to_the_cssrs_and_an_urgent_alert(phone, app_db_url):
    chris = _client(app_db_url, CHRIS)
    before = _alerts(app_db_url, chris.id)
    sign_in(phone, CHRIS, CLIENT_PASSWORD)
    phone.goto("/questionnaire/phq9")
    expect(
        phone.get_by_role("heading", name="Patient Health Questionnaire (PHQ-9)")
    ).to_be_visible()
    for n in range(1, 9):
        _answer(phone, f"q{n}", "Not at all")
    _answer(phone, "q9", "Several days")
    expect(phone.locator("#crisis-callout")).to_be_visible()
    expect(phone.locator("#answered-count")).to_have_text("9 of 9 answered")
    _check_page(phone, "questionnaire-01-phq9-item9")

    phone.locator("#q-submit").click()
    phone.wait_for_url("**/questionnaire/cssrs")
    expect(phone.locator("#cssrs-intro")).to_contain_text("like to ask a few more questions")
    expect(phone.locator("#item-q3")).to_be_hidden()  # asked only after a yes to question 2
    _check_page(phone, "questionnaire-02-cssrs")

    _answer(phone, "q1", "Yes")
    _answer(phone, "q2", "No")
    _answer(phone, "q6", "No")
    expect(phone.locator("#answered-count")).to_have_text("3 of 3 answered")
    phone.locator("#q-submit").click()
    phone.wait_for_url("**/support")
    shot(phone, "questionnaire-03-support")

    new = _alerts(app_db_url, chris.id)[len(before) :]
    assert new == [("urgent", "phq9_item9", "phq9"), ("urgent", "cssrs_ideation", "cssrs")]


def test_progress_shows_the_mood_history_as_a_chart(phone, app_db_url):
    _arrange_checkins(app_db_url, ELI)
    sign_in(phone, ELI, CLIENT_PASSWORD)
    phone.goto("/progress")
    chart = phone.locator("#mood-chart")
    expect(chart.locator("svg.kj-chart")).to_be_visible()
    expect(chart.locator(".kj-series-mood path.kj-chart-line")).to_have_attribute(
        "d", re.compile(r"M.+ L.+")
    )
    expect(chart.locator("svg.kj-chart text").first).to_have_text("Very low")
    expect(chart.locator(".kj-series")).to_have_count(1)
    box = chart.locator("svg.kj-chart").bounding_box()
    assert box and box["width"] > 300 and 150 < box["height"] < 260  # fills a phone's card
    expect(phone.locator("#chart-summary")).to_contain_text("check-ins")
    expect(phone.locator("#streak")).to_contain_text("of the last 7 days")
    expect(phone.locator("#scores .score-row").first).to_contain_text("Baseline")
    _check_page(phone, "progress-01")
    phone.locator("label[for=toggle-sleep]").click()
    expect(phone.locator("#toggle-sleep")).to_be_checked()
    expect(chart.locator("path.kj-chart-line")).to_have_count(2)
    expect(chart.locator(".kj-series-sleep path.kj-chart-line")).to_have_attribute(
        "d", re.compile(r"M.+")
    )
    expect(chart.locator(".kj-legend-sleep")).to_have_text("Sleep")
    _check_page(phone, "progress-02-sleep")

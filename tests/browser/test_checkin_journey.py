"""The daily check-in at phone size: three taps save today's entry; changing an answer and adding
a note update that same entry (checked in the server's database); a note over the limit shows
its counter and message and keeps every character typed, also after a reload.

The client is made for this test alone (on the server's own database, as a clinician's invite
would), so no other browser test's seeded client is touched.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlmodel import Session

from kapjourney.domain.models import Clinic, ClinicProtocol
from kapjourney.seed import CLINIC_TZ
from tests.browser.conftest import serious_violations, shot, sign_in
from tests.browser.journeys import tap
from tests.browser.people import checkins_of, make_client, wait_for_checkins

EMAIL = "quinn.checkin@riverbend.example"
PASSWORD = "quiet morning harbour"


def _late_window_all_day(session: Session, clinic: Clinic) -> None:
    """Her clinic's late window spans all of today, so the Yesterday switch is there whatever
    the hour the test runs (the demo clinic keeps its settings)."""
    protocol = session.get(ClinicProtocol, clinic.id)
    protocol.checkin_grace_hours = 24
    session.add(protocol)


def _check_page(page, name: str) -> None:
    shot(page, name)
    assert serious_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"


def test_three_taps_then_changes_update_the_same_day(phone, app_db_url):
    client_id = make_client(
        app_db_url,
        email=EMAIL,
        password=PASSWORD,
        name="Quinn Check",
        clinic_name="Harbour Test Clinic",
        slug="harbour-checkin",
        configure=_late_window_all_day,
    )
    sign_in(phone, EMAIL, PASSWORD)
    phone.goto("/checkin")
    expect(phone.get_by_role("heading", name="Daily check-in")).to_be_visible()
    expect(phone.locator("#day-switch")).to_be_visible()  # her clinic's window is all day
    _check_page(phone, "checkin-01-new")

    # Three taps: mood, anxiety, sleep. The third one saves the day's check-in.
    tap(phone, "mood", "Good")
    tap(phone, "anxiety", "Calm")
    tap(phone, "sleep", "Okay")
    expect(phone.locator("#saved")).to_have_text(
        re.compile(r"Saved for today at \d{1,2}:\d\d [ap]m")
    )
    rows = wait_for_checkins(app_db_url, client_id, lambda r: r and r[0].status == "submitted")
    assert [(r.status, r.mood, r.anxiety, r.sleep, r.late) for r in rows] == [
        ("submitted", 4, 1, 3, False)
    ]
    _check_page(phone, "checkin-02-saved")

    # Change the mood, add energy and a note, and save again: still one entry for the day.
    tap(phone, "mood", "Very good")
    tap(phone, "energy", "High")
    note = phone.get_by_label("A note for yourself or your care team (optional)")
    note.fill("A walk by the water helped.")
    expect(phone.locator("#checkin-note-count")).to_have_text("27 / 500")
    phone.get_by_role("button", name="Save").click()
    rows = wait_for_checkins(
        app_db_url, client_id, lambda r: r and r[0].note == "A walk by the water helped."
    )
    assert [(r.status, r.mood, r.energy, r.note) for r in rows] == [
        ("submitted", 5, 5, "A walk by the water helped.")
    ]

    # A note over the limit: the counter and a message at the note; nothing typed is lost.
    long_note = "Today I noticed " + "a little more calm, " * 30 + "truly."  # 622 characters
    note.fill(long_note)
    expect(phone.locator("#checkin-note-count")).to_have_text(f"{len(long_note)} / 500")
    error = phone.locator("#checkin-note-error")
    expect(error).to_contain_text("Notes can be up to 500 characters")
    phone.get_by_role("button", name="Save").click()
    expect(error).to_contain_text("Please shorten it by 122 characters.")
    expect(note).to_have_value(long_note)
    _check_page(phone, "checkin-03-long-note")
    rows = wait_for_checkins(app_db_url, client_id, lambda r: r and len(r[0].note) > 500)
    assert len(rows) == 1 and rows[0].note == long_note

    # Back later: the draft note is still there, with its message.
    phone.reload()
    expect(note).to_have_value(long_note)
    expect(error).to_contain_text("Notes can be up to 500 characters")
    expect(phone.locator("#scale-mood").get_by_role("radio", name="Very good")).to_be_checked()
    assert len(checkins_of(app_db_url, client_id)) == 1

    # Yesterday, while its window is open: a late entry, also in three taps.
    phone.locator("#day-switch").get_by_role("radio", name="Yesterday").click()
    expect(phone.locator("#late")).to_have_text("Late entry")
    expect(phone.locator("#late-hint")).to_contain_text("kept as a late entry")
    _check_page(phone, "checkin-04-yesterday")
    tap(phone, "mood", "Low")
    tap(phone, "anxiety", "Uneasy")
    tap(phone, "sleep", "Poor")
    expect(phone.locator("#saved")).to_contain_text("Saved for yesterday at")
    yesterday = datetime.now(ZoneInfo(CLINIC_TZ)).date() - timedelta(days=1)
    rows = wait_for_checkins(app_db_url, client_id, lambda r: len(r) == 2)
    late = [(r.local_date, r.mood, r.late, r.status) for r in rows if r.late]
    assert late == [(yesterday, 2, True, "submitted")]
    assert [r.late for r in rows if r.local_date != yesterday] == [False]


def test_the_answers_work_from_the_keyboard(phone, app_db_url):
    """The answers are native radios: arrow keys move along a scale and choose, the card
    shows a focus ring, and the choice is kept in the day's draft like a tap."""
    client_id = make_client(
        app_db_url,
        email="rowan.keys@riverbend.example",
        password=PASSWORD,
        name="Rowan Keys",
        clinic_name="Harbour Keys Clinic",
        slug="harbour-keys",
    )
    sign_in(phone, "rowan.keys@riverbend.example", PASSWORD)
    phone.goto("/checkin")
    mood = phone.locator("#scale-mood")
    mood.get_by_role("radio", name="Okay", exact=True).focus()
    phone.keyboard.press("ArrowRight")
    good = mood.get_by_role("radio", name="Good", exact=True)
    expect(good).to_be_checked()
    expect(good).to_be_focused()
    ring = good.evaluate("e => getComputedStyle(e.nextElementSibling).outlineStyle")
    assert ring == "solid", "the focused card shows no focus ring"
    assert mood.get_by_role("radio").count() == 5
    rows = wait_for_checkins(app_db_url, client_id, lambda r: r and r[0].mood == 4)
    assert [(r.status, r.mood, r.anxiety) for r in rows] == [("draft", 4, None)]
    shot(phone, "checkin-05-keyboard")

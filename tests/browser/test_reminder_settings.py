"""Reminder settings at phone size, and the care team's Reminders panel.

A client made for this test alone opens Settings from the account menu, sets when her daily
check-in reminder comes and her quiet hours (a time inside the quiet hours is refused at the
field and every box keeps what she typed), saves, reloads and finds them kept. "Turn on
reminders" cannot really subscribe in headless Chromium (no push service; reference §2.7), so
the test checks the clear message she gets instead. A clinician then sees the seeded state of a
demo client's reminders on the client's page.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import PushSubscription, ReminderPreference, User
from kapjourney.domain.schemas import Actor
from kapjourney.seed import STAFF_PASSWORD
from kapjourney.seed_history import demo_subscription
from kapjourney.services import reminders
from tests.browser.conftest import ARTIFACTS, AXE, serious_violations, shot, sign_in
from tests.browser.people import make_client

EMAIL = "sky.reminders@riverbend.example"
PASSWORD = "evening tide lanterns"
MAYA = "maya.chen@riverbend.example"
QUIET_CLASH = "Choose a time outside your quiet hours, or change them."
BLOCKED = (
    "Reminders are blocked for this site. Allow notifications in your browser or phone "
    "settings, then try again."
)
FAILED = "Reminders could not be turned on. Please try again in a moment."


def _make_client(db_url: str, email: str = EMAIL) -> int:
    slug = "lantern-" + email.split("@")[0].replace(".", "-")
    return make_client(
        db_url,
        email=email,
        password=PASSWORD,
        name="Sky Reminders",
        clinic_name="Lantern Test Clinic",
        slug=slug,
    )


def _stored(db_url: str, user_id: int, check, timeout: float = 15) -> ReminderPreference | None:
    """The client's reminder preference once ``check(row)`` holds (saves go over a websocket)."""
    engine = db.make_engine(db_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with db.session_scope(engine) as s:
                row = s.get(ReminderPreference, user_id)
                if row is not None:
                    s.expunge(row)
            if check(row) or time.monotonic() > deadline:
                return row
            time.sleep(0.25)
    finally:
        engine.dispose()


def _add_phone(db_url: str, user_id: int) -> int:
    """A phone of hers that has reminders on, stored as the subscribe route stores it."""
    endpoint, p256dh, auth = demo_subscription("sky")
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            view = reminders.save_device(
                session=s,
                actor=Actor.from_user(s.get(User, user_id)),
                device=reminders.NewDevice(endpoint, p256dh, auth),
                user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile",
            )
            return view.device_id
    finally:
        engine.dispose()


def _device_status(db_url: str, device_id: int) -> str:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return s.get(PushSubscription, device_id).status
    finally:
        engine.dispose()


def _user_id(db_url: str, email: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return s.exec(select(User.id).where(User.email == email)).one()
    finally:
        engine.dispose()


def _check_page(page, name: str, width: int = 390) -> None:
    shot(page, name)
    assert serious_violations(page) == [], name
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} scrolls sideways ({scroll}px)"


def _serious_violations_in(page, selector: str) -> list[dict]:
    """axe-core on one part of the page (the rest of it is other panels' business)."""
    page.evaluate(AXE.read_text())  # not add_script_tag: the app's CSP refuses inline scripts
    violations = page.evaluate(
        """async (selector) => (await axe.run(selector, {resultTypes: ['violations']}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help}))""",
        selector,
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _open_settings(page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url(re.compile(r"/settings$"))
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()


def test_a_client_sets_her_reminder_time_and_quiet_hours(phone, app_db_url):
    client_id = _make_client(app_db_url)
    sign_in(phone, EMAIL, PASSWORD)
    _open_settings(phone)
    expect(phone.locator("#tab-today")).to_be_visible()  # the client's own tabs, no sixth one
    # Not an iPhone: the "Add to Home Screen" guide stays hidden.
    expect(phone.locator("#install-guide")).to_be_hidden()
    assert phone.evaluate("document.documentElement.dataset.kjIos") is None
    expect(phone.locator("#devices")).to_have_text(
        "No phone or computer has reminders turned on yet."
    )
    expect(phone.locator("#lock-screen-example")).to_contain_text("Time for your daily check-in")
    remind_at = phone.get_by_label("Remind me at")
    quiet_from, quiet_until = phone.get_by_label("From"), phone.get_by_label("Until")
    expect(remind_at).to_have_value("19:00")
    expect(quiet_from).to_have_value("22:00")
    expect(quiet_until).to_have_value("08:00")
    _check_page(phone, "settings-01-client")

    # A reminder inside the quiet hours would never ring: refused at the field, nothing lost.
    quiet_from.fill("21:30")
    quiet_until.fill("07:15")
    remind_at.fill("22:45")
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator("#reminder-checkin_time-error")).to_have_text(QUIET_CLASH)
    expect(remind_at).to_have_attribute("aria-invalid", "true")
    expect(remind_at).to_have_value("22:45")
    expect(quiet_from).to_have_value("21:30")
    expect(quiet_until).to_have_value("07:15")
    # (The page's own script has reported the notification permission, so a row may exist.)
    row = _stored(app_db_url, client_id, lambda r: False, timeout=1)
    assert row is None or (row.checkin_time, row.quiet_start, row.quiet_end) == (
        "19:00",
        "22:00",
        "08:00",
    )
    _check_page(phone, "settings-02-quiet-clash")

    remind_at.fill("20:15")
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator("#saved")).to_have_text("Saved")
    expect(phone.locator("#reminder-checkin_time-error")).to_be_hidden()
    row = _stored(app_db_url, client_id, lambda r: r is not None and r.checkin_time == "20:15")
    assert (row.checkin_enabled, row.checkin_time, row.quiet_start, row.quiet_end) == (
        True,
        "20:15",
        "21:30",
        "07:15",
    )

    phone.reload()
    expect(phone.get_by_label("Remind me at")).to_have_value("20:15")
    expect(phone.get_by_label("From")).to_have_value("21:30")
    expect(phone.get_by_label("Until")).to_have_value("07:15")

    # The switch: off, saved, and still off after a reload.
    switch = phone.get_by_role("switch", name="Daily check-in reminder")
    expect(switch).to_be_checked()
    switch.click()
    phone.get_by_role("button", name="Save").click()
    _stored(app_db_url, client_id, lambda r: r is not None and not r.checkin_enabled)
    phone.reload()
    expect(phone.get_by_role("switch", name="Daily check-in reminder")).not_to_be_checked()

    # A phone of hers with reminders on is listed, and she can turn it off from here.
    device_id = _add_phone(app_db_url, client_id)
    phone.reload()
    device = phone.locator(".kj-device")
    expect(device).to_have_count(1)
    expect(device).to_contain_text("Chrome on Android")
    expect(device).to_contain_text("No reminder sent yet")
    expect(phone.get_by_role("button", name="Turn off on this phone")).to_be_visible()
    _check_page(phone, "settings-06-device")
    phone.get_by_role("button", name="Turn off reminders on Chrome on Android").click()
    expect(phone.locator("#push-notice")).to_have_text("Reminders are off for Chrome on Android.")
    expect(device).to_have_count(0)
    assert _device_status(app_db_url, device_id) == "unsubscribed"


def test_turning_on_reminders_in_a_browser_that_cannot_subscribe_says_why(phone, app_db_url):
    _make_client(app_db_url, "sky.push@riverbend.example")
    sign_in(phone, "sky.push@riverbend.example", PASSWORD)
    phone.goto("/settings")
    button = phone.get_by_role("button", name="Turn on reminders")
    expect(button).to_be_visible()
    # Headless Chromium answers the permission request with "denied".
    button.click()
    expect(phone.locator("#push-error")).to_have_text(BLOCKED)
    expect(button).to_have_accessible_description(BLOCKED)
    _check_page(phone, "settings-03-blocked")

    # Allowed, the real PushManager.subscribe still fails here (no push service to reach).
    phone.context.grant_permissions(["notifications"])
    button.click()
    expect(phone.locator("#push-error")).to_have_text(FAILED, timeout=30_000)
    expect(phone.locator("#devices")).to_have_text(
        "No phone or computer has reminders turned on yet."
    )


def test_a_clinician_sees_whether_reminders_reach_her_client(desktop, app_db_url):
    farah = _user_id(app_db_url, "farah@riverbend.example")
    alex = _user_id(app_db_url, "alex@riverbend.example")
    sign_in(desktop, MAYA, STAFF_PASSWORD)
    desktop.goto(f"/clinician/client/{farah}")
    panel = desktop.locator("#reminders-panel")
    expect(panel.get_by_role("heading", name="Reminders")).to_be_visible()
    expect(panel.locator("#reminder-health")).to_have_text("Expired")
    expect(panel).to_contain_text("The push service ended their subscription")
    expect(panel.locator("#reminder-last-success")).to_have_text(
        re.compile(r"Last accepted \w{3} \d{1,2} \w{3}, 7:00 pm")
    )
    expect(panel.locator(".kj-reminder-device")).to_have_count(1)
    expect(panel.locator(".kj-reminder-device")).to_contain_text("Chrome on Android")
    panel.scroll_into_view_if_needed()
    shot(desktop, "settings-04-clinician-panel")
    panel.screenshot(path=str(ARTIFACTS / "settings-04b-reminders-panel.png"))
    assert _serious_violations_in(desktop, "#reminders-panel") == []

    desktop.goto(f"/clinician/client/{alex}")
    expect(desktop.locator("#reminder-health")).to_have_text("Never turned on")
    expect(desktop.locator("#reminders-panel")).to_contain_text("have not turned reminders on")

    # Her own settings: the care team's header, no check-in reminder form.
    _open_settings(desktop)
    expect(desktop.locator("#nav-protocol")).to_be_visible()
    expect(desktop.get_by_label("Remind me at")).to_have_count(0)
    expect(desktop.locator("#lock-screen-example")).to_contain_text(
        "You have an update in KAP Journey"
    )
    _check_page(desktop, "settings-05-clinician", width=1280)

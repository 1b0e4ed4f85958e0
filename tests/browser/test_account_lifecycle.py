"""The account lifecycle against the real server (issue 7, part 4).

Larkspur, a clinic of its own (no other test's people are touched): Lena the admin, Cora and
Sol, clinicians; Pip and Wren, Cora's clients, each dosed 25 hours ago.

Done-when: Cora has the caseload dashboard and the alert inbox open on her phone (390x844); Lena
deactivates her from the Team page in another browser, choosing Sol to take over. Cora's next
event on the dashboard (a search keystroke) shows no client and lands on sign-in, and the inbox's
live watch stops: an alert Wren raises afterwards never reaches the old page.

Also: Lena resets Pip's password and Pip sets a new one through the new link (the old one fails);
Pip signs out of all devices from Settings and her other phone is signed out at its next event.

Staff are signed in by a session made in the server's database and handed to the browser as its
cookie: the password and two-factor steps have their own tests (test_signin_journeys and the
two-factor tests), and this test is about what happens after.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from kapjourney.auth import sessions
from kapjourney.clock import now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import ClinicianAssignment, TotpCredential, User
from tests.browser.conftest import PHONE, sign_in
from tests.browser.journeys import check_page
from tests.browser.people import invite_client_of_sam, make_clinic, send_urgent_report, with_db

LENA = "lena.ward@larkspur.example"
CORA = "cora.bell@larkspur.example"
SOL = "sol.reyes@larkspur.example"
STAFF = (
    (LENA, "Lena Ward", Role.ADMIN),
    (CORA, "Cora Bell", Role.CLINICIAN),
    (SOL, "Sol Reyes", Role.CLINICIAN),
)
PIP, WREN = "pip.lark@larkspur.example", "wren.lark@larkspur.example"
PASSWORD, NEW_PASSWORD = "quiet meadow lantern", "amber harbour kestrel"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def larkspur(app_db_url) -> dict[str, int]:
    """The clinic, its staff, and Pip and Wren (Cora's clients, dosed 25 hours ago): their
    dosing session ids by email."""
    make_clinic(app_db_url, name="Larkspur", slug="larkspur", staff=STAFF)
    return {
        email: invite_client_of_sam(
            app_db_url,
            email=email,
            name=name,
            password=PASSWORD,
            dosed_hours_ago=25,
            clinician=CORA,
        )
        for email, name in ((PIP, "Pip Lark"), (WREN, "Wren Lark"))
    }


def _staff_context(browser, app_url: str, db_url: str, email: str):
    """A phone whose browser holds a live session of ``email`` (see the module's docstring)."""

    def work(s):
        user = s.exec(select(User).where(User.email == email)).one()
        return sessions.create_session(s, user=user, ip="127.0.0.1", user_agent=ANDROID)

    token = with_db(db_url, work)
    context = browser.new_context(base_url=app_url, user_agent=ANDROID, **PHONE)
    context.add_cookies(
        [
            {
                "name": "kj_session",
                "value": token,
                "url": app_url,
                "httpOnly": True,
                "sameSite": "Strict",
            }
        ]
    )
    return context


def _urgent_report(db_url: str, email: str, dosing_id: int) -> int:
    return send_urgent_report(db_url, email=email, dosing_id=dosing_id, tag="lifecycle")


def test_a_deactivated_clinicians_open_pages_stop_at_their_next_event(
    browser, app_url, app_db_url, larkspur
):
    dosing = larkspur
    first_alert = _urgent_report(app_db_url, PIP, dosing[PIP])

    cora = _staff_context(browser, app_url, app_db_url, CORA)
    dashboard = cora.new_page()
    dashboard.goto("/clinician")
    cards = dashboard.locator("#client-cards > li")
    expect(cards).to_have_count(2)
    expect(dashboard.locator("#client-cards")).to_contain_text("Pip Lark")
    inbox = cora.new_page()
    inbox.goto("/clinician/alerts")
    expect(inbox.locator("#inbox-live")).to_be_visible()
    expect(inbox.locator(f'.kj-inbox-alert[data-alert="{first_alert}"]')).to_be_visible()
    inbox.evaluate("window.__kjSamePage = true")  # gone if the page reloads

    lena = _staff_context(browser, app_url, app_db_url, LENA)
    admin = lena.new_page()
    admin.goto("/clinician")
    admin.locator("#nav-team").click()
    expect(admin).to_have_url(re.compile(r"/clinician/team/?$"))
    card = admin.locator(".kj-staff").filter(has_text="Cora Bell")
    expect(card).to_contain_text("Clients: 2 · Open alerts: 1")
    expect(card).to_have_attribute("data-active", "true")
    expect(admin.locator(".kj-staff").filter(has_text="Lena Ward")).to_contain_text("You")
    admin.mouse.move(200, 800)
    check_page(admin, "lifecycle-01-team-phone")

    card.get_by_role("button", name="Deactivate Cora Bell").click()
    dialog = admin.get_by_role("alertdialog")
    expect(dialog).to_contain_text("2 clients and 1 open alert move to the clinician you choose")
    dialog.get_by_role("button", name="Deactivate").click()  # no successor chosen yet
    expect(dialog.locator("#team-successor-error")).to_contain_text("Choose an active clinician")
    dialog.get_by_label("Who takes over their clients and alerts").select_option(label="Sol Reyes")
    expect(dialog.locator("#team-successor-error")).to_be_hidden()  # chosen: the message goes
    check_page(admin, "lifecycle-02-deactivate-dialog-phone")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_attribute("data-active", "false")
    expect(card.get_by_role("button", name="Reactivate Cora Bell")).to_be_visible()
    expect(admin.locator(".kj-staff").filter(has_text="Sol Reyes")).to_contain_text(
        "Clients: 2 · Open alerts: 1"
    )

    # Cora's dashboard: the next keystroke lands on sign-in, with no client on the page.
    dashboard.get_by_label("Search by name").fill("Pip")
    expect(dashboard).to_have_url(re.compile(r"/signin/?$"))
    expect(dashboard.get_by_text("Pip Lark")).to_have_count(0)

    # Cora's inbox: its live watch stops at its next poll, and a later alert never arrives.
    expect(inbox.locator(f'.kj-inbox-alert[data-alert="{first_alert}"]')).to_have_count(0)
    expect(inbox.locator("#inbox-live")).to_have_count(0)
    later_alert = _urgent_report(app_db_url, WREN, dosing[WREN])
    inbox.wait_for_timeout(12_000)  # more than two polls of the watch (5 s each)
    expect(inbox.locator(f'.kj-inbox-alert[data-alert="{later_alert}"]')).to_have_count(0)
    expect(inbox.get_by_text("Wren Lark")).to_have_count(0)
    assert inbox.evaluate("window.__kjSamePage === true"), "the inbox reloaded"

    def carers(s):
        ids = {
            u.email: u.id
            for u in s.exec(select(User).where(User.email.in_((CORA, SOL, PIP, WREN)))).all()
        }
        rows = s.exec(select(ClinicianAssignment)).all()
        return ids, {(r.clinician_id, r.client_id) for r in rows}

    ids, pairs = with_db(app_db_url, carers)
    assert {(ids[SOL], ids[PIP]), (ids[SOL], ids[WREN])} <= pairs
    assert not any(clinician == ids[CORA] for clinician, _ in pairs)
    cora.close()
    lena.close()


def test_an_admin_resets_a_clients_password_and_she_sets_a_new_one(
    browser, app_url, app_db_url, larkspur
):
    lena = _staff_context(browser, app_url, app_db_url, LENA)
    admin = lena.new_page()
    admin.goto("/clinician/team")
    card = admin.locator(".kj-client-account").filter(has_text="Pip Lark")
    card.get_by_role("button", name="Reset password of Pip Lark").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_role("button", name="Reset password").click()
    link = dialog.locator("#team-invite-link")
    expect(link).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{40,}$"))
    check_page(admin, "lifecycle-03-reset-link-phone")
    invite_url = link.input_value()

    pip = browser.new_context(base_url=app_url, **PHONE)
    phone = pip.new_page()
    sign_in(phone, PIP, PASSWORD, expect_success=False)
    expect(phone.get_by_text("Email or password is incorrect.")).to_be_visible()
    phone.goto(invite_url)
    phone.get_by_label("New password").fill(NEW_PASSWORD)
    phone.get_by_label("Type it again").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Join my clinic").click()
    expect(phone).to_have_url(re.compile(r"/today/?$"))
    pip.close()

    other = browser.new_context(base_url=app_url, **PHONE)
    sign_in(other.new_page(), PIP, NEW_PASSWORD)
    other.close()
    lena.close()


def test_signing_out_of_all_devices_signs_out_the_other_phone_too(browser, app_url, larkspur):
    first = browser.new_context(base_url=app_url, user_agent=ANDROID, **PHONE)
    second = browser.new_context(base_url=app_url, **PHONE)
    here, there = first.new_page(), second.new_page()
    sign_in(here, WREN, PASSWORD)
    sign_in(there, WREN, PASSWORD)
    expect(there.locator("#greeting")).to_be_visible()

    here.goto("/settings")
    section = here.locator("#devices-section")
    # These two phones, and the sign-in her invite link made when she joined (people.py).
    expect(section.locator(".kj-sign-in")).to_have_count(3)
    expect(
        section.get_by_role("button", name=re.compile(r"^Sign out .*, signed in "))
    ).to_have_count(2)
    expect(section.locator('.kj-sign-in[data-this="true"]')).to_contain_text("This device")
    expect(section.locator('.kj-sign-in[data-this="true"]')).to_contain_text("Chrome on Android")
    section.scroll_into_view_if_needed()
    check_page(here, "lifecycle-04-settings-devices-phone")

    section.get_by_role("button", name="Sign out of all devices").click()
    confirm = here.get_by_role("alertdialog")
    expect(confirm).to_contain_text("this one too")
    confirm.get_by_role("button", name="Sign out everywhere").click()
    expect(here).to_have_url(re.compile(r"/signin/?$"))

    # The other phone: its next event (a tab to another page) lands on sign-in.
    there.locator("#tab-checkin").click()
    expect(there).to_have_url(re.compile(r"/signin/?$"))
    first.close()
    second.close()


def test_an_admin_resets_a_lost_phones_two_step_sign_in(browser, app_url, app_db_url, larkspur):
    """Sol lost his phone: Lena resets his two-step sign-in. His authenticator stops counting
    and his open page is signed out at its next event."""

    def enrolled(s):
        sol = s.exec(select(User).where(User.email == SOL)).one()
        # A confirmed authenticator (its secret is never read on this path).
        s.add(TotpCredential(user_id=sol.id, secret_encrypted="x" * 100, confirmed_at=now()))
        return sol.id

    sol_id = with_db(app_db_url, enrolled)
    sols = _staff_context(browser, app_url, app_db_url, SOL)
    his = sols.new_page()
    his.goto("/clinician")
    expect(his.locator("#nav-alerts")).to_be_visible()

    lenas = _staff_context(browser, app_url, app_db_url, LENA)
    page = lenas.new_page()
    page.goto("/clinician/team")
    card = page.locator(".kj-staff", has_text="Sol Reyes")
    expect(card).to_contain_text("Two-step on")
    expect(
        page.locator(".kj-staff", has_text="Lena Ward").get_by_role(
            "button", name=re.compile("^Reset two-step")
        )
    ).to_have_count(0)  # never one's own
    card.get_by_role("button", name="Reset two-step sign-in of Sol Reyes").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("set up an authenticator app again")
    check_page(page, "lifecycle-05-two-step-reset-phone")
    confirm.get_by_role("button", name="Reset two-step").click()
    expect(confirm).to_be_hidden()
    expect(card).to_contain_text("Two-step off")

    def left(s):
        return s.exec(select(TotpCredential).where(TotpCredential.user_id == sol_id)).all()

    assert with_db(app_db_url, left) == []
    his.locator("#nav-alerts").click()  # his next event
    expect(his).to_have_url(re.compile(r"/signin/?$"))
    sols.close()
    lenas.close()

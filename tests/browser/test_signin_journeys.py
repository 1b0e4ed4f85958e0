"""Sign-in journeys at phone size (clients) and desktop size (clinicians), with axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from kapjourney.seed import CLIENT_PASSWORD, STAFF_PASSWORD
from tests.browser.conftest import serious_violations, shot, sign_in

ALEX = "alex@riverbend.example"
MAYA = "maya.chen@riverbend.example"


def test_client_signs_in_and_sees_today_at_phone_size(phone):
    phone.goto("/signin")
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    assert serious_violations(phone) == []
    shot(phone, "signin-phone")

    sign_in(phone, ALEX, CLIENT_PASSWORD)
    expect(phone).to_have_url(re.compile(r"/today/?$"))
    expect(phone.locator("#greeting")).to_contain_text("Hello, Alex")
    expect(phone.locator("#next-session")).to_contain_text("Session 3 of 6")
    expect(phone.locator("#next-session")).to_contain_text("Tomorrow")
    expect(phone.locator("#crisis-button")).to_be_visible()
    assert serious_violations(phone) == []
    shot(phone, "today-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"


def test_wrong_password_shows_message_and_keeps_the_email(phone):
    sign_in(phone, ALEX, "not the password", expect_success=False)
    expect(phone.locator("#form-error")).to_contain_text("Email or password is incorrect.")
    expect(phone.get_by_label("Email")).to_have_value(ALEX)
    expect(phone).to_have_url(re.compile(r"/signin/?$"))
    shot(phone, "signin-error-phone")


def test_empty_sign_in_names_each_missing_field(phone):
    phone.goto("/signin")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.locator("#signin-email-error")).to_have_text("Enter your email address.")
    expect(phone.locator("#signin-password-error")).to_have_text("Enter your password.")


def test_a_form_the_browser_posts_itself_comes_back_with_its_messages(phone):
    """A tap before the page's script has started posts the form natively (``form.submit()``
    does the same): the server sends it back to the sign-in page, which names what is missing
    or says the sign-in failed."""
    phone.goto("/signin")
    expect(phone.locator("#signin-submit")).to_be_visible()
    with phone.expect_navigation():
        phone.evaluate("document.getElementById('signin-form').submit()")
    expect(phone).to_have_url(re.compile(r"/signin\?signin=missing-email-password$"))
    expect(phone.locator("#signin-email-error")).to_have_text("Enter your email address.")
    expect(phone.locator("#signin-password-error")).to_have_text("Enter your password.")

    phone.get_by_label("Email").fill(ALEX)
    phone.get_by_label("Password").fill("not the password")
    with phone.expect_navigation():
        phone.evaluate("document.getElementById('signin-form').submit()")
    expect(phone.locator("#form-error")).to_contain_text("Email or password is incorrect.")
    assert "not the password" not in phone.url and "alex" not in phone.url
    shot(phone, "signin-native-retry-phone")


def test_huge_input_gets_a_message_not_an_error_page(phone):
    phone.goto("/signin")
    phone.get_by_label("Email").fill("a" * 1_000_000)
    phone.get_by_label("Password").fill("b" * 1_000_000)
    phone.get_by_role("button", name="Sign in").click()
    # The field stops at the longest possible address; the server answers plainly.
    expect(
        phone.get_by_role("alert").filter(has_text="Email or password is incorrect.")
    ).to_be_visible()
    assert len(phone.get_by_label("Email").input_value()) == 254
    expect(phone).to_have_url(re.compile(r"/signin/?$"))


def test_clinician_signs_in_and_sees_her_clients(desktop):
    sign_in(desktop, MAYA, STAFF_PASSWORD)
    expect(desktop).to_have_url(re.compile(r"/clinician/?$"))
    table = desktop.locator("#client-table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(4)
    for name in ("Alex Rivera", "Bea Thompson", "Chris Nguyen", "Farah Said"):
        expect(table).to_contain_text(name)
    expect(table).not_to_contain_text("Dana Kowalski")
    assert serious_violations(desktop) == []
    shot(desktop, "clients-desktop")


def test_clinician_invites_a_client_who_joins_on_her_phone(desktop, phone):
    sign_in(desktop, MAYA, STAFF_PASSWORD)
    expect(desktop.locator("#client-table")).to_be_visible()
    desktop.get_by_role("button", name="Invite a client").click()
    dialog = desktop.get_by_role("dialog")
    dialog.get_by_label("Full name").fill("Robin Park")
    dialog.get_by_label("Email").fill("not-an-email")
    dialog.get_by_role("button", name="Create invite").click()
    expect(dialog.locator("#invite-client-email-error")).to_contain_text("Enter an email")
    expect(dialog.get_by_label("Full name")).to_have_value("Robin Park")
    dialog.get_by_label("Email").fill("robin.park@riverbend.example")
    dialog.get_by_role("button", name="Create invite").click()
    link = dialog.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{40,}$"))
    assert serious_violations(desktop) == []
    shot(desktop, "invite-dialog-desktop")
    invite_url = link.input_value()

    phone.goto(invite_url)
    expect(phone.get_by_text("Welcome,")).to_contain_text("Robin")
    phone.get_by_label("New password").fill("short")
    phone.get_by_label("Type it again").fill("short")
    phone.get_by_role("button", name="Join my clinic").click()
    expect(phone.locator("#invite-password-error")).to_contain_text("at least 10 characters")
    assert serious_violations(phone) == []
    shot(phone, "invite-phone")
    phone.get_by_label("New password").fill("maple river lantern")
    phone.get_by_label("Type it again").fill("maple river lantern")
    phone.get_by_role("button", name="Join my clinic").click()
    expect(phone).to_have_url(re.compile(r"/today/?$"))
    expect(phone.locator("#greeting")).to_contain_text("Hello, Robin")

    # The link is single-use.
    phone.goto(invite_url)
    expect(phone.locator("#invite-problem")).to_contain_text("already been used")


def test_the_account_menu_opens_closes_and_works_by_keyboard(phone):
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    expect(phone.locator("#greeting")).to_be_visible()
    button = phone.get_by_role("button", name="Account menu")
    panel = phone.locator("#account-panel")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    # Open: the person's name, Settings and Sign out, in view on a phone; axe finds nothing.
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Alex")
    expect(phone.get_by_role("link", name="Settings")).to_be_in_viewport()
    expect(phone.get_by_role("button", name="Sign out")).to_be_in_viewport()
    assert serious_violations(phone) == []
    shot(phone, "account-menu-open")

    # A tap elsewhere closes it; so does the button again.
    phone.locator("#greeting").click()
    expect(panel).to_be_hidden()
    button.click()
    expect(panel).to_be_visible()
    button.click()
    expect(panel).to_be_hidden()

    # Keyboard: Enter opens, Tab reaches Settings, Escape closes and focus goes back.
    button.focus()
    phone.keyboard.press("Enter")
    expect(panel).to_be_visible()
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("link", name="Settings")).to_be_focused()
    phone.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    # Tabbing past its last item closes it behind you.
    phone.keyboard.press("Enter")
    expect(panel).to_be_visible()
    for _ in range(3):  # Settings, Sign out, then on into the page
        phone.keyboard.press("Tab")
    expect(panel).to_be_hidden()
    button.focus()

    # Choosing an item goes there, and the menu is closed on the next page.
    phone.keyboard.press("Enter")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/settings/?$"))
    expect(phone.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(panel).to_be_hidden()


def test_sign_out_ends_the_session(phone):
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    expect(phone.locator("#greeting")).to_be_visible()
    phone.get_by_role("button", name="Account menu").click()
    phone.get_by_role("button", name="Sign out").click()
    expect(phone).to_have_url(re.compile(r"/signin/?$"))
    phone.goto("/today")
    expect(phone).to_have_url(re.compile(r"/signin/?$"))


def test_signed_out_visitor_is_sent_to_sign_in(phone):
    phone.goto("/clinician")
    expect(phone).to_have_url(re.compile(r"/signin/?$"))


def test_client_cannot_open_the_clinician_list(phone):
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    expect(phone.locator("#greeting")).to_be_visible()
    phone.goto("/clinician")
    expect(phone).to_have_url(re.compile(r"/today/?$"))
    expect(phone.locator("body")).not_to_contain_text("Bea Thompson")


def test_crisis_resources_are_one_tap_from_today(phone):
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    phone.locator("#crisis-button").click()
    expect(phone).to_have_url(re.compile(r"/crisis/?$"))
    expect(phone.get_by_role("link", name=re.compile("Call 988"))).to_have_attribute(
        "href", "tel:988"
    )
    assert serious_violations(phone) == []
    shot(phone, "crisis-phone")

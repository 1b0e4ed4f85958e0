"""Two-factor sign-in on a phone (390x844), against the real server, with axe-core.

Rowan, a clinician of a clinic of his own (so no other test's people are touched) with one
client, Wren, signs in with his password for the first time: he is sent to set up an
authenticator app, and until he has, neither the caseload nor Wren's page opens (he lands on the
sign-in page and Wren's name never shows). He adds the key as text (the way a person without a
second phone would), enters the code, sees his ten recovery codes once, and reaches the
dashboard. Signed out and back in, he is asked for a code: a wrong one is refused at the field;
a recovery code works once, and the same recovery code is refused the next time.
"""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from kapjourney import db
from kapjourney.auth.passwords import hash_password
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Clinic, User
from kapjourney.routes import client_url
from kapjourney.seed import CLINIC_TZ, STAFF_PASSWORD
from kapjourney.services.protocol import ensure_clinic_defaults
from tests.browser.conftest import PHONE, serious_violations, shot, totp_code
from tests.browser.people import invite_client_of_sam

ROWAN = "rowan.vale@twostep.example"
WREN, WREN_NAME = "wren@twostep.example", "Wren Tallis"


def _clinic_with_rowan_and_wren(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            clinic = Clinic(name="Two Step Clinic", slug="two-step", timezone=CLINIC_TZ)
            s.add(clinic)
            s.flush()
            ensure_clinic_defaults(s, clinic_id=clinic.id)
            s.add(
                User(
                    clinic_id=clinic.id,
                    role=Role.CLINICIAN,
                    email=ROWAN,
                    display_name="Rowan Vale",
                    timezone=CLINIC_TZ,
                    password_hash=hash_password(STAFF_PASSWORD),
                )
            )
    finally:
        engine.dispose()
    invite_client_of_sam(
        db_url, email=WREN, name=WREN_NAME, password="quiet harbour lamp", clinician=ROWAN
    )
    engine = db.make_engine(db_url)
    try:  # disposed: on PostgreSQL a pooled connection would outlive the engine
        with db.session_scope(engine) as s:
            from sqlmodel import select

            return s.exec(select(User).where(User.email == WREN)).one().id
    finally:
        engine.dispose()


def _password(page) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(ROWAN)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _no_axe_problems(page) -> None:
    assert serious_violations(page) == []


def test_a_clinician_enrols_then_verifies_with_a_code_and_a_recovery_code(phone, app_db_url):
    wren_id = _clinic_with_rowan_and_wren(app_db_url)

    # First password sign-in: sent to set up an authenticator app.
    _password(phone)
    phone.wait_for_url(re.compile(r"/signin/enrol/?$"), timeout=30_000)
    expect(
        phone.get_by_role("heading", name="Add KAP Journey to an authenticator app")
    ).to_be_visible()
    expect(phone.locator("#enrol-key")).to_have_text(re.compile(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}"))
    qr = phone.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    # The CSP lets the data: image in, and it is a picture the browser can draw.
    phone.wait_for_function("document.getElementById('enrol-qr').naturalWidth > 0")

    # Half signed in: no caseload, no client page, no client's name.
    for path in ("/clinician", client_url(wren_id)):
        phone.goto(path)
        phone.wait_for_url(re.compile(r"/signin(/enrol)?/?$"), timeout=15_000)
        expect(phone.get_by_text(WREN_NAME)).to_have_count(0)
    phone.goto("/signin/enrol")
    expect(phone.locator("#enrol-key")).to_have_text(re.compile(r"[A-Z2-7]{4}"))
    secret = phone.locator("#enrol-key").inner_text().replace(" ", "").strip()
    phone.wait_for_timeout(400)  # let the step badges and fonts settle for the picture
    shot(phone, "two-factor-enrol")
    _no_axe_problems(phone)

    # A wrong code is refused at the field; the right one shows the recovery codes once.
    phone.get_by_label("6-digit code").fill("000000")
    phone.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(phone.locator("#enrol-code-error")).to_have_text(re.compile("didn't work"))
    expect(phone.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")
    code, step = totp_code(secret)
    phone.get_by_label("6-digit code").fill(code)
    phone.get_by_role("button", name="Turn on two-step sign-in").click()
    codes_list = phone.locator("#recovery-codes li")
    expect(codes_list).to_have_count(10)
    codes = codes_list.all_inner_texts()
    assert all(
        re.fullmatch(r"[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{2}", c) for c in codes
    )
    expect(phone.locator("#enrol-steps")).to_be_hidden()
    with phone.expect_download() as download:
        phone.get_by_role("button", name="Download as text").click()
    saved = download.value.path().read_text()
    assert all(c in saved for c in codes)
    shot(phone, "two-factor-recovery-codes")
    _no_axe_problems(phone)
    phone.get_by_role("link", name="I have saved them").click()
    phone.wait_for_url(re.compile(r"/clinician/?$"), timeout=30_000)
    expect(phone.get_by_text(WREN_NAME).filter(visible=True).first).to_be_visible()

    # Signed out and in again: a code is owed.
    phone.evaluate("window.kj.signOut()")
    phone.wait_for_url(re.compile(r"/signin/?$"))
    _password(phone)
    phone.wait_for_url(re.compile(r"/signin/verify/?$"), timeout=30_000)
    code_box = phone.get_by_label("6-digit code")
    expect(code_box).to_have_attribute("inputmode", "numeric")
    expect(code_box).to_have_attribute("autocomplete", "one-time-code")
    shot(phone, "two-factor-verify")
    _no_axe_problems(phone)
    code_box.fill(pyotp.TOTP(secret).at((step - 5) * 30))  # long gone
    phone.get_by_role("button", name="Continue").click()
    expect(phone.locator("#verify-code-error")).to_have_text(re.compile("didn't work"))
    expect(code_box).to_have_attribute("aria-invalid", "true")
    shot(phone, "two-factor-verify-wrong")
    _no_axe_problems(phone)

    # A recovery code instead: it works once.
    phone.get_by_role("button", name="Use a recovery code instead").click()
    phone.get_by_label("Recovery code").fill(codes[0])
    phone.get_by_role("button", name="Continue").click()
    phone.wait_for_url(re.compile(r"/clinician/?$"), timeout=30_000)
    expect(phone.get_by_text(WREN_NAME).filter(visible=True).first).to_be_visible()
    phone.evaluate("window.kj.signOut()")
    phone.wait_for_url(re.compile(r"/signin/?$"))
    _password(phone)
    phone.wait_for_url(re.compile(r"/signin/verify/?$"), timeout=30_000)
    phone.get_by_role("button", name="Use a recovery code instead").click()
    phone.get_by_label("Recovery code").fill(codes[0])
    phone.get_by_role("button", name="Continue").click()
    expect(phone.locator("#verify-code-error")).to_have_text(re.compile("works only once"))
    assert "/signin/verify" in phone.url

    # Before the page's script has started (here: never), both forms still work: the browser
    # posts them itself and the server answers with redirects. A wrong code goes back to the
    # code page; the right one reaches the dashboard. No JSON page, no code in a URL.
    plain = phone.context.browser.new_context(
        base_url=phone.url.split("/signin")[0], java_script_enabled=False, **PHONE
    )
    page = plain.new_page()
    try:
        page.goto("/signin")
        page.get_by_label("Email").fill(ROWAN)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/signin/verify/?$"))
        page.get_by_label("6-digit code").fill("000000")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/signin/verify/?$"))
        expect(page.get_by_label("6-digit code")).to_be_visible()
        code, _ = totp_code(secret, after_step=step)
        page.get_by_label("6-digit code").fill(code)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/clinician/?$"))
        assert code not in page.url and "000000" not in page.url
        shot(page, "two-factor-verify-without-script")
    finally:
        plain.close()


def test_staff_settings_show_two_step_sign_in(phone):
    """The shared sign-in helper enrols (or verifies) Maya the real way; Settings then shows
    two-step sign-in as on, with ten codes and this trusted browser."""
    from tests.browser.conftest import sign_in

    sign_in(phone, "maya.chen@riverbend.example", STAFF_PASSWORD)
    phone.goto("/settings")
    section = phone.locator("#two-factor-section")
    expect(section.get_by_text("On", exact=True)).to_be_visible()
    expect(phone.locator("#two-factor-codes-left")).to_contain_text("recovery codes left")
    section.scroll_into_view_if_needed()
    shot(phone, "two-factor-settings")
    _no_axe_problems(phone)

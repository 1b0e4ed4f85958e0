"""Clinician single sign-on in headless Chromium, through the loopback OpenID provider that the
browser conftest starts (tests/oidc_provider.py) and offers for the demo clinic.

The app runs at localhost and the provider at 127.0.0.1: two sites, as in real life, so the
provider's redirect back is a cross-site navigation (the pending-login cookie is SameSite=Lax,
the session cookie SameSite=Strict).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, serious_violations, shot
from tests.oidc_provider import Person

MAYA = Person(sub="riverbend-maya-chen", email="maya.chen@riverbend.example", name="Maya Chen")
BUTTON = "Sign in with Riverbend SSO"
MESSAGE = "Single sign-on didn't work. Try again or ask your clinic."


@pytest.fixture
def idp(app_oidc_provider):
    app_oidc_provider.reset()
    app_oidc_provider.person = MAYA
    yield app_oidc_provider
    app_oidc_provider.reset()


def _caseload(page: Page):
    return page.locator("#client-table, #client-cards").filter(visible=True)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_clinician_signs_in_with_single_sign_on(browser, app_url, idp, size):
    # The app's Content-Security-Policy is enforced here (no bypass): the flow must work under it.
    context = browser.new_context(base_url=app_url, **(PHONE if size == "phone" else DESKTOP))
    page = context.new_page()
    try:
        page.goto("/signin")
        button = page.get_by_role("link", name=BUTTON)
        expect(button).to_be_visible()
        shot(page, f"signin-sso-{size}")

        button.click()
        expect(page).to_have_url(re.compile(r"/clinician/?$"), timeout=30_000)
        expect(_caseload(page)).to_be_visible(timeout=20_000)
        expect(page.get_by_text("Alex Rivera").filter(visible=True).first).to_be_visible()
        shot(page, f"sso-dashboard-{size}")
        assert [r for r in idp.requests if r[0] == "token"], "the code was exchanged"

        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["kj_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert "kj_oidc" not in cookies  # the pending-login binding is gone
        page.reload()  # still signed in: the session lives on the server
        expect(_caseload(page)).to_be_visible(timeout=20_000)
    finally:
        context.close()


def test_a_forged_state_lands_on_sign_in_with_the_message(phone, app_url, idp):
    idp.state = "forged-by-someone-else"  # the browser comes back with a state we never sent
    phone.goto("/signin")
    phone.get_by_role("link", name=BUTTON).click()
    expect(phone).to_have_url(re.compile(r"/signin/?\?sso=failed$"), timeout=30_000)
    expect(phone.locator("#form-error")).to_have_text(MESSAGE)
    assert "kj_session" not in {c["name"] for c in phone.context.cookies()}
    # The page still offers both ways in.
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    expect(phone.get_by_role("link", name=BUTTON)).to_be_visible()


def test_a_refusal_at_the_provider_lands_on_sign_in_with_the_message(phone, app_url, idp):
    idp.person = None  # the provider answers access_denied
    phone.goto("/signin")
    phone.get_by_role("link", name=BUTTON).click()
    expect(phone).to_have_url(re.compile(r"/signin/?\?sso=failed$"), timeout=30_000)
    expect(phone.locator("#form-error")).to_have_text(MESSAGE)


def test_the_sign_in_page_with_single_sign_on_is_accessible(browser, app_url):
    # axe-core is injected as an inline script, which the app's CSP rightly refuses: bypass it.
    context = browser.new_context(base_url=app_url, bypass_csp=True, **PHONE)
    page = context.new_page()
    try:
        page.goto("/signin")
        expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
        assert serious_violations(page) == []
        page.goto("/signin?sso=failed")
        expect(page.locator("#form-error")).to_have_text(MESSAGE)
        assert serious_violations(page) == []
        shot(page, "signin-sso-failed-phone")
    finally:
        context.close()

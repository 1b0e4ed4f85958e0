"""The demo seed at phone size (390x844): Dr. Maya Chen's caseload shows every recency tier and
her inbox an alert she acknowledged; Sam Okafor's inbox shows Eli's escalated alert. Only what no
other browser test changes is checked (Chris's alert is resolved by the clinician journey and
escalates by itself 15 minutes after the server starts). axe-core finds no serious problems;
screenshots are kept."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from kapjourney.seed import STAFF_PASSWORD
from tests.browser.conftest import PHONE, sign_in
from tests.browser.journeys import check_page

MAYA = "maya.chen@riverbend.example"
SAM = "sam.okafor@riverbend.example"


def _inbox(page: Page):
    page.goto("/clinician/alerts")
    expect(page.locator("#inbox-live")).to_be_visible()
    return page.locator(".kj-inbox-alert")


def _phone_of(browser, app_url: str, email: str):
    context = browser.new_context(base_url=app_url, **PHONE)
    page = context.new_page()
    sign_in(page, email, STAFF_PASSWORD)
    return context, page


def test_the_demo_clinicians_see_each_seeded_state_on_a_phone(browser, app_url):
    context, page = _phone_of(browser, app_url, MAYA)
    try:
        cards = page.locator("#client-cards > li")
        expect(cards).to_have_count(4)
        for tier in ("2d", "7d", "older", "never"):
            expect(cards.locator(f'.kj-recency[data-recency="{tier}"]')).to_have_count(1)
        check_page(page, "demo-phone-01-maya-caseload")

        farah = _inbox(page).filter(has_text="Farah Said")
        expect(farah).to_have_attribute("data-status", "acknowledged")
        expect(farah).to_contain_text("Acknowledged by Dr. Maya Chen")
        expect(farah.locator(".kj-escalated")).to_have_count(0)
        check_page(page, "demo-phone-02-maya-inbox")
    finally:
        context.close()

    context, page = _phone_of(browser, app_url, SAM)
    try:
        eli = _inbox(page).filter(has_text="Eli Haddad").filter(has_text="Questionnaire")
        expect(eli).to_have_attribute("data-status", "open")
        expect(eli.locator(".kj-escalated")).to_have_text("escalated")
        expect(eli.locator(".kj-waiting")).to_have_text(re.compile(r"^Waiting \d+ (min|h)"))
        check_page(page, "demo-phone-03-sam-inbox-escalated")
    finally:
        context.close()

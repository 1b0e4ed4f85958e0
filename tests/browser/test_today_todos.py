"""Today at phone size lists what is due, gravest first: Eli owes a C-SSRS (his PHQ-9 item 9
of this week was above zero), and the daily check-in is one tap away."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from kapjourney.seed import CLIENT_PASSWORD
from tests.browser.conftest import serious_violations, shot, sign_in

ELI = "eli@riverbend.example"


def test_today_lists_the_owed_safety_check_first_and_the_check_in(phone):
    sign_in(phone, ELI, CLIENT_PASSWORD)
    todos = phone.locator("#todos")
    expect(todos).to_be_visible()
    first = todos.locator("a").first
    expect(first).to_have_attribute("id", "todo-form-cssrs")
    expect(first).to_have_attribute("href", "/questionnaire/cssrs")
    expect(phone.locator("#todo-checkin")).to_be_visible()
    # The bottom tabs are there, the safety plan one tap away, and Today is marked current.
    expect(phone.get_by_role("navigation", name="Main")).to_be_visible()
    expect(phone.locator("#tab-today")).to_have_attribute("aria-current", "page")
    expect(phone.locator("#tab-safety-plan")).to_have_attribute("href", "/safety-plan")
    shot(phone, "today-todos")
    assert serious_violations(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.locator("#todo-checkin").click()
    expect(phone).to_have_url(re.compile(r"/checkin/?$"))
    expect(phone.locator("#tab-checkin")).to_have_attribute("aria-current", "page")

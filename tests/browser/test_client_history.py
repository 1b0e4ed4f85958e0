"""The history timeline on a client's page, at phone (390x844) and desktop (1280x800) sizes.

Dr. Maya Chen opens Alex Rivera's page (months of seeded history): the timeline shows the newest
30 records, "Show earlier" adds the next 30, and the "Symptom reports" chip (a toggle button)
narrows it to his after-session reports. Sam Okafor reads a check-in note of hostile markup for
a client of his, shown as text. axe-core finds nothing serious; the phone does not scroll
sideways; screenshots are kept and were viewed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import local_today, now
from kapjourney.domain.models import CheckIn, User
from kapjourney.seed import STAFF_PASSWORD
from tests.browser.conftest import ARTIFACTS, AXE, DESKTOP, PHONE, shot, sign_in
from tests.browser.people import invite_client_of_sam

MAYA = "maya.chen@riverbend.example"
SAM = "sam.okafor@riverbend.example"
SIZES = {"phone": PHONE, "desktop": DESKTOP}
DETAIL_URL = re.compile(r"/clinician/client/\d+/?$")
HOSTILE = '<img src=x onerror="window.kjPwned=1"><script>window.kjPwned=1</script> felt calm'
TIME_LABEL = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d\d:\d\d$"
)


@pytest.fixture(params=list(SIZES))
def screen(request, browser, app_url):
    # CSP off in this browser only: axe-core is injected as an inline script, and with the page's
    # CSP off a hostile note that showed as markup would run (so "nothing ran" means text).
    context = browser.new_context(base_url=app_url, bypass_csp=True, **SIZES[request.param])
    page = context.new_page()
    yield request.param, page
    context.close()


def _open(page: Page, email: str, name: str) -> None:
    sign_in(page, email, STAFF_PASSWORD)
    page.locator("#client-table, #client-cards").filter(visible=True).get_by_role(
        "link", name=name, exact=True
    ).click()
    expect(page).to_have_url(DETAIL_URL)
    expect(page.locator("#client-name")).to_have_text(name)


def _panel_violations(page: Page) -> list[dict]:
    """axe-core's serious or critical findings inside the history panel (other panels of this
    page have tests of their own, and may be mid-change while this one runs)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run('#history-panel', {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _fits(page: Page, size: str, name: str) -> None:
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = _panel_violations(page)
    assert found == [], (name, found)
    shot(page, name)
    panel = page.locator("#history-panel")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(ARTIFACTS / f"{name}-panel.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    wanted = SIZES[size]["viewport"]["width"]
    assert width <= wanted, f"{name} scrolls sideways ({width}px > {wanted}px)"


def _chip(page: Page, kind: str):
    return page.locator(f'#history-panel .kj-history-chip[data-kind="{kind}"]')


def _count(chip) -> int:
    """The number a filter chip shows after its label ("Symptom reports 4")."""
    return int(re.search(r"(\d+)\s*$", chip.inner_text()).group(1))


def test_maya_reads_alexs_history_pages_back_and_filters_to_reports(screen):
    size, page = screen
    _open(page, MAYA, "Alex Rivera")
    entries = page.locator("#history-list > li")
    expect(entries).to_have_count(30)
    expect(_chip(page, "")).to_have_attribute("aria-pressed", "true")
    expect(entries.first.locator("time")).to_have_text(TIME_LABEL)
    assert entries.first.locator("time").get_attribute("datetime")
    first_title = entries.first.locator(".kj-history-title").inner_text()
    _fits(page, size, f"history-01-{size}-timeline")

    everything = _count(_chip(page, ""))
    assert everything > 30, "the seed gives Alex more than a page of history"
    page.get_by_role("button", name="Show earlier").click()
    expect(entries).to_have_count(min(everything, 60))
    expect(entries.first.locator(".kj-history-title")).to_have_text(first_title)

    reports = _chip(page, "symptom_report")
    wanted = _count(reports)
    assert wanted > 0
    reports.click()
    expect(reports).to_have_attribute("aria-pressed", "true")
    expect(_chip(page, "")).to_have_attribute("aria-pressed", "false")
    expect(entries).to_have_count(min(wanted, 30))
    expect(page.locator('#history-list > li:not([data-kind="symptom_report"])')).to_have_count(0)
    expect(entries.first.locator(".kj-history-title")).to_have_text(
        re.compile(r"^Symptom report after session \d+: grade \d")
    )
    _fits(page, size, f"history-02-{size}-reports")

    _chip(page, "").click()
    expect(entries).to_have_count(30)
    expect(entries.first.locator(".kj-history-title")).to_have_text(first_title)


@pytest.fixture
def client_with_a_hostile_note(app_db_url) -> str:
    name = "Hollis History"
    email = "hollis.history@riverbend.example"
    engine = db.make_engine(app_db_url)
    try:
        with db.session_scope(engine) as s:
            if s.exec(select(User).where(User.email == email)).first() is not None:
                return name
    finally:
        engine.dispose()
    invite_client_of_sam(app_db_url, email=email, name=name, password="hollis-history-pass")
    engine = db.make_engine(app_db_url)
    try:
        with db.session_scope(engine) as s:
            client = s.exec(select(User).where(User.email == email)).one()
            at = now() - timedelta(days=1)
            s.add(
                CheckIn(
                    client_id=client.id,
                    clinic_id=client.clinic_id,
                    local_date=local_today(client.timezone, at),
                    status="submitted",
                    mood=3,
                    anxiety=2,
                    sleep=4,
                    note=HOSTILE,
                    submitted_at=at,
                )
            )
    finally:
        engine.dispose()
    return name


@pytest.mark.parametrize("screen", ["phone"], indirect=True)
def test_a_note_of_markup_shows_as_text(screen, client_with_a_hostile_note):
    _, phone = screen
    _open(phone, SAM, client_with_a_hostile_note)
    entry = phone.locator('#history-list > li[data-kind="checkin"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"Note: {HOSTILE}")
    assert phone.evaluate("window.kjPwned") is None
    expect(phone.locator("#history-panel img")).to_have_count(0)
    expect(phone.get_by_role("button", name="Show earlier")).to_have_count(0)
    _fits(phone, "phone", "history-03-phone-hostile-note")

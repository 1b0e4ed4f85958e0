"""Charts on the clinician's client page (issue 6, item 3), on a phone (390x844) and a desk.

Dr. Maya Chen opens Farah (demo seed: six sessions done a week apart, the last a week ago, with
two months of check-ins and weekly PHQ-9 and GAD-7). She sees the check-in chart and the score
chart, each with the six sessions marked S1..S6 and described in words; the outcome table has a
row per session with response and remission badges. Thirty days shows the last four sessions;
a year shows all six again. axe-core finds nothing serious; the phone does not scroll sideways
(the table scrolls in its own labelled region). Screenshots are kept and were viewed.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import User
from kapjourney.seed import STAFF_PASSWORD
from tests.browser.conftest import ARTIFACTS, AXE, shot, sign_in

MAYA = "maya.chen@riverbend.example"


def _user_id(db_url: str, email: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return s.exec(select(User.id).where(User.email == email)).one()
    finally:
        engine.dispose()


def _markers(chart) -> list[str]:
    """The session labels drawn on a chart (recharts draws them in a layer of their own)."""
    return chart.locator("text.recharts-label").all_text_contents()


def _serious_violations_in(page, selector: str) -> list[dict]:
    """axe-core on this panel (the page's other panels are checked by their own tests)."""
    page.evaluate(AXE.read_text())  # as conftest: the app's CSP refuses inline scripts
    violations = page.evaluate(
        """async (selector) => (await axe.run(selector, {resultTypes: ['violations']}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                   targets: v.nodes.map(n => n.target.join(' '))}))""",
        selector,
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _check(page, name: str) -> None:
    panel = page.locator("#charts-panel")
    panel.scroll_into_view_if_needed()
    shot(page, name)
    panel.screenshot(path=str(ARTIFACTS / f"{name}-panel.png"))
    found = _serious_violations_in(page, "#charts-panel")
    assert found == [], f"{name}: {found}"
    width = page.evaluate("document.documentElement.scrollWidth")
    wanted = page.viewport_size["width"]
    assert width <= wanted, f"{name} scrolls sideways ({width}px > {wanted}px)"


def test_a_clinician_reads_the_charts_and_outcomes_of_her_client(screen, app_db_url):
    size, page = screen
    farah = _user_id(app_db_url, "farah@riverbend.example")
    sign_in(page, MAYA, STAFF_PASSWORD)
    page.goto(f"/clinician/client/{farah}")
    panel = page.locator("#charts-panel")
    expect(panel.get_by_role("heading", name="Charts")).to_be_visible()
    checkins, scores = panel.locator("#checkin-chart"), panel.locator("#score-chart")
    expect(checkins.locator(".recharts-line")).to_have_count(3)
    expect(scores.locator(".recharts-line")).to_have_count(2)  # PHQ-9, GAD-7 (no PCL-5 asked)
    sessions = [f"S{n}" for n in range(1, 7)]
    expect(checkins.locator(".recharts-reference-line")).to_have_count(6)
    assert _markers(checkins) == sessions and _markers(scores) == sessions
    ninety = panel.get_by_role("button", name="90 days")
    expect(ninety).to_have_attribute("aria-pressed", "true")
    expect(panel.locator("#checkin-summary")).to_contain_text(
        re.compile(r"Check-ins on \d+ of 90 days.*Dosing sessions: S1 on \w{3} \d+")
    )
    expect(panel.locator("#score-summary")).to_contain_text(re.compile(r"PHQ-9: \d+ scores"))
    expect(panel.locator("#score-summary")).to_contain_text("PCL-5: no scores in this range.")
    expect(panel.locator("#score-title")).to_have_text("Questionnaire scores (PHQ-9 and GAD-7)")
    table = panel.get_by_role("region", name="Outcome per session")
    expect(table.get_by_role("columnheader")).to_have_count(3)  # Session, PHQ-9, GAD-7
    rows = table.locator(".kj-outcome-row")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("S1")
    expect(rows.first).to_contain_text(re.compile(r"\d+ → \d+"))
    expect(table.locator(".response").first).to_be_visible()  # Farah's PHQ-9 halved
    _check(page, f"charts-01-{size}-90-days")

    panel.get_by_role("button", name="30 days").click()
    expect(panel.get_by_role("button", name="30 days")).to_have_attribute("aria-pressed", "true")
    expect(ninety).to_have_attribute("aria-pressed", "false")
    expect(checkins.locator(".recharts-reference-line")).to_have_count(4)
    assert _markers(checkins) == sessions[2:]
    expect(panel.locator("#checkin-summary")).to_contain_text(re.compile(r"of 30 days"))
    expect(rows).to_have_count(6)  # the table covers the course, whatever the range
    _check(page, f"charts-02-{size}-30-days")

    panel.get_by_role("button", name="Year").click()
    expect(panel.locator("#checkin-summary")).to_contain_text(re.compile(r"of 365 days"))
    expect(scores.locator(".recharts-reference-line")).to_have_count(6)

"""The caseload dashboard at desktop (1280x800), tablet (820x1180) and phone (390x844) sizes.

Dr. Maya Chen signs in and sees her caseload, the client with an open urgent alert (Chris, in the
demo seed) first: a table on a desk, stacked cards on a tablet or phone. Searching narrows the
rows, the recency filter shows one tier, each mood sparkline is named for screen readers, axe-core
finds nothing serious, and a phone does not scroll sideways. Screenshots are kept and were viewed.

A clinician of a clinic made for this test alone has invited 61 clients: she pages through them
(25 a page); one has a name of hostile markup, which shows as text (nothing runs), and whose
pending invitation offers a fresh link.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from kapjourney import db
from kapjourney.auth.passwords import hash_password
from kapjourney.domain.enums import AlertSeverity, AlertStatus, Role
from kapjourney.domain.models import Alert, Clinic, QuestionnaireResponse, User
from kapjourney.domain.schemas import Actor, InviteCreate
from kapjourney.seed import CLINIC_TZ, STAFF_PASSWORD
from kapjourney.services.accounts import create_invite
from kapjourney.services.alerts import raise_alert
from kapjourney.services.protocol import ensure_clinic_defaults
from tests.browser.conftest import DESKTOP, PHONE, serious_violations, shot, sign_in

MAYA = "maya.chen@riverbend.example"
MAYAS_CLIENTS = ("Alex Rivera", "Bea Thompson", "Chris Nguyen", "Farah Said")
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 2, "has_touch": True}
SIZES = {"desktop": DESKTOP, "tablet": TABLET, "phone": PHONE}
TIERS = ("2d", "7d", "older", "never")
SPARK_LABEL = re.compile(
    r"Mood over 14 days: (no check-ins"
    r"|\d each time, \d+ of 14 days recorded"
    r"|\d to \d \(low \d, high \d\), \d+ of 14 days recorded)"
)
HOSTILE = '<img src=x onerror="window.kjPwned=1"><script>window.kjPwned=1</script> Rob'
HANA = "hana.ito@tidewater.example"
HANA_PASSWORD = "copper kettle evening"
PAGING_CLIENTS = 60


@pytest.fixture(params=list(SIZES))
def screen(request, browser, app_url):
    context = browser.new_context(base_url=app_url, **SIZES[request.param])
    page = context.new_page()
    yield request.param, page
    context.close()


@pytest.fixture
def chris_has_an_open_urgent_alert(app_db_url):
    """The demo seed gives Chris an open urgent alert (his PHQ-9 item 9). Another browser test
    resolves it; then it is raised again, through the alert service, from the same answers."""
    engine = db.make_engine(app_db_url)
    try:
        with db.session_scope(engine) as s:
            chris = s.exec(select(User).where(User.email == "chris@riverbend.example")).one()
            grave = (AlertSeverity.EMERGENCY, AlertSeverity.URGENT)
            open_now = s.exec(
                select(Alert).where(
                    Alert.client_id == chris.id,
                    Alert.status != AlertStatus.RESOLVED,
                    Alert.severity.in_(grave),
                )
            ).first()
            if open_now is None:
                phq9 = s.exec(
                    select(QuestionnaireResponse).where(
                        QuestionnaireResponse.client_id == chris.id,
                        QuestionnaireResponse.instrument == "phq9",
                    )
                ).first()
                seeded = s.exec(select(Alert).where(Alert.client_id == chris.id)).first()
                raise_alert(
                    s,
                    client=chris,
                    severity=AlertSeverity.URGENT,
                    reason_code=seeded.reason_code if seeded else "phq9_item9",
                    source_kind="questionnaire",
                    source_id=phq9.id if phq9 else 0,
                )
    finally:
        engine.dispose()


@pytest.fixture
def hana_with_a_hostile_invitee(app_db_url) -> None:
    """Hana, the one clinician of a clinic of her own, has invited a client with a hostile name
    and 60 others (through the invite service, as her invite dialog would): three pages."""
    engine = db.make_engine(app_db_url)
    try:
        with db.session_scope(engine) as s:
            if s.exec(select(User).where(User.email == HANA)).first() is not None:
                return
            clinic = Clinic(name="Tidewater Therapy", slug="tidewater", timezone=CLINIC_TZ)
            s.add(clinic)
            s.flush()
            ensure_clinic_defaults(s, clinic_id=clinic.id)
            hana = User(
                clinic_id=clinic.id,
                role=Role.CLINICIAN,
                email=HANA,
                display_name="Dr. Hana Ito",
                timezone=CLINIC_TZ,
                password_hash=hash_password(HANA_PASSWORD),
            )
            s.add(hana)
            s.flush()
            actor = Actor.from_user(hana)
            create_invite(
                session=s,
                actor=actor,
                data=InviteCreate(display_name=HOSTILE, email="rob@tidewater.example"),
            )
            for n in range(1, PAGING_CLIENTS + 1):  # three pages of 25 with the one above
                create_invite(
                    session=s,
                    actor=actor,
                    data=InviteCreate(
                        display_name=f"Paging Client {n:02}", email=f"p{n:02}@tidewater.example"
                    ),
                )
    finally:
        engine.dispose()


def _rows(page: Page, size: str):
    if size == "desktop":
        return page.locator("#client-table tbody tr")
    return page.locator("#client-cards > li")


def _tiers(rows) -> list[str]:
    return [
        rows.nth(i).locator(".kj-recency").get_attribute("data-recency") or ""
        for i in range(rows.count())
    ]


def _fits(page: Page, size: str, name: str) -> None:
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = serious_violations(page)
    assert found == [], (name, found)
    shot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    wanted = SIZES[size]["viewport"]["width"]
    assert width <= wanted, f"{name} scrolls sideways ({width}px > {wanted}px)"


def test_maya_sees_her_caseload_neediest_first_then_searches_and_filters(
    screen, chris_has_an_open_urgent_alert
):
    size, page = screen
    sign_in(page, MAYA, STAFF_PASSWORD)
    expect(page).to_have_url(re.compile(r"/clinician/?$"))
    rows = _rows(page, size)
    expect(rows.first).to_be_visible(timeout=20_000)
    # One layout at a time: the other is not displayed (and so not in the accessibility tree).
    shown, hidden = ["#client-table", "#client-cards"][:: 1 if size == "desktop" else -1]
    expect(page.locator(shown)).to_be_visible()
    expect(page.locator(hidden)).to_be_hidden()
    for name in MAYAS_CLIENTS:
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(page.locator(shown)).not_to_contain_text("Dana Kowalski")  # Sam's client

    # Chris, with an open urgent alert, comes first; his alert badge leads to the inbox.
    first = rows.first
    expect(first.locator(".kj-client-link")).to_have_text("Chris Nguyen")
    expect(first.locator(".kj-client-link")).to_have_attribute(
        "href", re.compile(r"/clinician/client/\d+$")
    )
    urgent = first.locator(".kj-alerts-urgent")
    expect(urgent).to_have_attribute("href", "/clinician/alerts")
    expect(urgent).to_have_text(re.compile(r"^\d+ urgent$"))
    expect(first).to_contain_text("PHQ-9")
    expect(first.locator(".kj-recency")).to_have_attribute(
        "data-recency", re.compile("|".join(TIERS))
    )

    # Every row has a mood sparkline named in words; the seed's history gives some a line.
    sparks = page.get_by_role("img", name=re.compile(r"^Mood over 14 days: "))
    expect(sparks).to_have_count(rows.count())
    labels = [sparks.nth(i).get_attribute("aria-label") or "" for i in range(sparks.count())]
    assert all(re.fullmatch(SPARK_LABEL, s) for s in labels), labels
    expect(page.locator(shown).get_by_text(re.compile(r"^\d+ of \d+ on time"))).not_to_have_count(0)
    _fits(page, size, f"dashboard-01-{size}-caseload")

    # Search narrows the rows as she types (debounced), and says how many match.
    search = page.get_by_label("Search by name")
    search.fill("bea")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".kj-client-link")).to_have_text("Bea Thompson")
    expect(page.locator("#caseload-count")).to_contain_text("1 client matches")
    _fits(page, size, f"dashboard-02-{size}-search")
    search.fill("nobody by this name")
    expect(page.locator("#caseload-empty")).to_contain_text("No clients match")
    page.get_by_role("button", name="Clear search and filter").click()
    expect(search).to_have_value("")
    expect(rows.filter(has_text="Farah Said")).to_have_count(1)

    # The recency filter shows exactly the rows of one tier (the tiers the page showed unfiltered).
    total = rows.count()
    seen = _tiers(rows)
    recency = page.get_by_label("Last check-in")
    for tier in TIERS:
        recency.select_option(tier)
        expected = seen.count(tier)
        if expected:  # the tier's rows arrive, and no other row stays
            expect(rows.locator(f'.kj-recency[data-recency="{tier}"]')).to_have_count(expected)
            expect(rows).to_have_count(expected)
        else:
            expect(page.locator("#caseload-empty")).to_be_visible()
        if tier == "never" and size == "phone":
            _fits(page, size, f"dashboard-03-{size}-filter-never")
    recency.select_option("")
    expect(rows).to_have_count(total)


def test_hana_pages_through_her_caseload_and_a_hostile_name_shows_as_text(
    screen, hana_with_a_hostile_invitee
):
    size, page = screen
    sign_in(page, HANA, HANA_PASSWORD)
    rows = _rows(page, size)
    expect(rows).to_have_count(25)
    expect(page.locator("#caseload-count")).to_contain_text(f"{PAGING_CLIENTS + 1} clients")

    # Paging: Previous and Next, and where she is.
    where = page.locator("#caseload-page")
    previous = page.get_by_role("button", name="Previous", exact=True)
    following = page.get_by_role("button", name="Next", exact=True)
    expect(where).to_have_text("Page 1 of 3")
    expect(previous).to_be_disabled()
    following.click()
    expect(where).to_have_text("Page 2 of 3")
    expect(rows).to_have_count(25)
    first_of_page_2 = rows.first.locator(".kj-client-link").inner_text()
    following.click()
    expect(where).to_have_text("Page 3 of 3")
    expect(rows).to_have_count(PAGING_CLIENTS + 1 - 50)
    expect(following).to_be_disabled()
    _fits(page, size, f"dashboard-04-{size}-last-page")
    previous.click()
    expect(where).to_have_text("Page 2 of 3")
    expect(rows.first.locator(".kj-client-link")).to_have_text(first_of_page_2)

    # A search goes back to page 1 of what matches; the hostile name is text, nothing runs.
    page.get_by_label("Search by name").fill("onerror")
    expect(rows).to_have_count(1)
    expect(where).to_be_hidden()  # one page: no pager
    link = rows.first.locator(".kj-client-link")
    expect(link).to_have_text(HOSTILE)
    assert page.evaluate("window.kjPwned") is None
    expect(page.locator("main img")).to_have_count(0)
    expect(rows.first).to_contain_text("invited")
    expect(rows.first).to_contain_text("Never")  # has not checked in
    _fits(page, size, f"dashboard-05-{size}-hostile-name")

    # Her invitation is still pending: a fresh link, named for her, as text.
    rows.first.get_by_role("button", name="New link for " + HOSTILE).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Invite ready for " + HOSTILE)
    expect(dialog.locator("#invite-link")).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{40,}$"))
    assert page.evaluate("window.kjPwned") is None

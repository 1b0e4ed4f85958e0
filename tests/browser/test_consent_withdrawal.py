"""Withdrawing consent through its two dialogs, on phones (390x844).

A new client of Sam's signs consent. On her consent page "Withdraw consent" opens an alert
dialog; "Keep my consent" closes it and nothing is recorded; opened again, she withdraws with a
reason. She signs again; Sam opens her page, and the Consent panel's "Record withdrawal" dialog
records the withdrawal she told him about. Each dialog is checked open (axe-core, no sideways
scroll) and its screenshot kept.
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import Session, select

from kapjourney.domain.models import ConsentWithdrawal, User
from kapjourney.domain.schemas import Actor
from kapjourney.seed import STAFF_PASSWORD
from kapjourney.services.consent import current_document
from tests.browser.conftest import PHONE, sign_in
from tests.browser.journeys import check_page
from tests.browser.people import SAM, invite_client_of_sam, with_db
from tests.journey_support import sign_consent

EMAIL = "wren.withdraws@example.org"
PASSWORD = "quiet river lantern"


def _sign(db_url: str) -> int:
    """She reads, answers and signs the clinic's current document; her user id."""

    def work(s: Session) -> int:
        client = s.exec(select(User).where(User.email == EMAIL)).one()
        # The clinic's current version: another test in this session may have published one.
        document = current_document(s, client.clinic_id)
        sign_consent(
            Actor.from_user(client), name="Wren Ellis", text=document.source_text, session=s
        )
        return client.id

    return with_db(db_url, work)


def _withdrawals(db_url: str, client_id: int) -> list[tuple[str, str]]:
    """(reason, who recorded it) of each of her withdrawals, oldest first."""

    def work(s: Session) -> list[tuple[str, str]]:
        rows = s.exec(
            select(ConsentWithdrawal.reason, User.email)
            .join(User, User.id == ConsentWithdrawal.recorded_by_id)
            .where(ConsentWithdrawal.client_id == client_id)
            .order_by(ConsentWithdrawal.id)
        ).all()
        return [(reason, email) for reason, email in rows]

    return with_db(db_url, work)


def test_consent_is_withdrawn_by_the_client_and_recorded_by_her_clinician(
    phone, browser, app_url, app_db_url
):
    invite_client_of_sam(app_db_url, email=EMAIL, name="Wren Ellis", password=PASSWORD)
    client_id = _sign(app_db_url)

    sign_in(phone, EMAIL, PASSWORD)
    phone.goto("/consent")
    expect(phone.locator("#consent-signed")).to_contain_text("as Wren Ellis")
    phone.get_by_role("button", name="Withdraw consent").click()
    dialog = phone.get_by_role("alertdialog", name="Withdraw your consent?")
    expect(dialog).to_contain_text("No further dosing sessions will go ahead")
    check_page(phone, "withdrawal-01-client-dialog-phone")
    dialog.get_by_role("button", name="Keep my consent").click()
    expect(dialog).to_be_hidden()
    expect(phone.locator("#consent-signed")).to_be_visible()

    # Had "Keep my consent" sent the form, this second withdrawal would find nothing to withdraw.
    phone.get_by_role("button", name="Withdraw consent").click()
    dialog.get_by_label("Reason (optional)").fill("I want to think it over.")
    dialog.get_by_role("button", name="Withdraw", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(phone.locator("#consent-withdrawn")).to_be_visible()
    assert _withdrawals(app_db_url, client_id) == [("I want to think it over.", EMAIL)]

    _sign(app_db_url)
    sam = browser.new_context(base_url=app_url, **PHONE)
    try:
        page = sam.new_page()
        sign_in(page, SAM, STAFF_PASSWORD)
        page.goto(f"/clinician/client/{client_id}")
        panel = page.locator("#consent-panel")
        expect(panel.locator("#consent-state")).to_have_text("Signed: current version")
        panel.locator("#withdraw-open").click()
        dialog = page.get_by_role("dialog", name="Record a withdrawal of consent")
        expect(dialog).to_contain_text("For a withdrawal the client told you about.")
        check_page(page, "withdrawal-02-clinician-dialog-phone")
        dialog.get_by_label("Reason (optional)").fill("Told me by phone on Tuesday.")
        dialog.get_by_role("button", name="Record withdrawal").click()
        expect(dialog).to_be_hidden()
        expect(panel.locator("#consent-state")).to_have_text("Withdrawn")
        expect(panel.locator("#withdraw-open")).to_be_disabled()
    finally:
        sam.close()
    assert _withdrawals(app_db_url, client_id) == [
        ("I want to think it over.", EMAIL),
        ("Told me by phone on Tuesday.", SAM),
    ]

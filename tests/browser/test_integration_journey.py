"""Integration at phone size: Alex writes his safety plan and does his integration exercises;
his clinician reads them at desktop size.

Dr. Chen assigns the exercises through the service layer on the server's own database (as her
panel does), and Alex's intention for his next session is set the same way, so the "intention
revisited" exercise has something to show back. Bad input (a megabyte of text, markup) gets a
message at the field and every typed character stays in the box.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import local_today
from kapjourney.domain.models import ChecklistItem, DosingSession, User
from kapjourney.domain.schemas import Actor
from kapjourney.seed import CLIENT_PASSWORD, STAFF_PASSWORD
from kapjourney.services import checklists, exercises
from tests.browser.conftest import serious_violations, shot, sign_in

ALEX = "alex@riverbend.example"
MAYA = "maya.chen@riverbend.example"
HOSTILE = "<script>alert(1)</script><b>x</b>"
INTENTION = "To meet old grief with some kindness"
REFLECTION = f"It felt softer than I feared. {HOSTILE}"


def _check_page(page, name: str, width: int = 390) -> None:
    """Screenshot, axe-core and no sideways scrolling: for every step."""
    shot(page, name)
    assert serious_violations(page) == [], name
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} scrolls sideways ({scroll}px)"


def _arrange(db_url: str) -> dict[str, int]:
    """Alex sets an intention for his next session; Dr. Chen assigns three exercises."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as session:
            alex = session.exec(select(User).where(User.email == ALEX)).one()
            maya = session.exec(select(User).where(User.email == MAYA)).one()
            dosing = session.exec(
                select(DosingSession)
                .where(DosingSession.client_id == alex.id, DosingSession.status == "scheduled")
                .order_by(DosingSession.scheduled_at)
            ).first()
            item = session.exec(
                select(ChecklistItem).where(
                    ChecklistItem.dosing_session_id == dosing.id, ChecklistItem.key == "intention"
                )
            ).one()
            checklists.complete_item(
                session=session,
                actor=Actor.from_user(alex),
                item_id=item.id,
                values={"text": INTENTION},
            )
            today = local_today(alex.timezone).isoformat()
            ids = {}
            for key, note in (
                ("intention", "Let's talk about this next time."),
                ("breathing", ""),
                ("journal_week", ""),
            ):
                rows = exercises.assign_exercise(
                    session=session,
                    actor=Actor.from_user(maya),
                    client_id=alex.id,
                    exercise=key,
                    due_date=today,
                    dosing_session_id=dosing.id if key == "intention" else None,
                    note=note,
                )
                ids[key] = max(r.assignment_id for r in rows)
            return ids
    finally:
        engine.dispose()


def _intention_exercise(phone, assignment_id: int) -> None:
    phone.locator(f"#exercise-link-{assignment_id}").click()
    expect(phone).to_have_url(re.compile(rf"/journal/{assignment_id}/?$"))
    expect(phone.get_by_role("heading", name="Your intention, revisited")).to_be_visible()
    expect(phone.locator("#exercise-intention")).to_have_text(INTENTION)
    expect(phone.locator("#exercise-note")).to_have_text("Let's talk about this next time.")
    _check_page(phone, "integration-03-intention")

    box = phone.get_by_label("Your words")
    # A megabyte pasted in: a message at the field, and the box keeps every character.
    box.fill("m" * 1_000_000)
    error = phone.locator("#exercise-text-error")
    expect(error).to_contain_text("more than 5,000 characters")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#exercise-count")).to_have_text("1000000 / 5000")
    assert len(box.input_value()) == 1_000_000
    phone.get_by_role("button", name="Mark as done").click()
    expect(error).to_contain_text("more than 5,000 characters")
    assert len(box.input_value()) == 1_000_000
    _check_page(phone, "integration-04-too-long")

    # Markup is only text; the draft is saved as typed and survives a reload.
    box.fill(REFLECTION)
    expect(phone.locator("#exercise-saved")).to_have_text("Draft saved")
    expect(error).to_be_hidden()
    phone.reload()
    expect(phone.get_by_label("Your words")).to_have_value(REFLECTION)
    phone.get_by_role("button", name="Mark as done").click()
    expect(phone.locator("#exercise-done")).to_contain_text("Done Today")
    expect(phone.locator("#exercise-response")).to_have_text(REFLECTION)
    expect(phone.locator("#exercise b")).to_have_count(0)
    expect(phone.locator("#exercise script")).to_have_count(0)
    _check_page(phone, "integration-05-intention-done")


def _breathing(phone, assignment_id: int) -> None:
    phone.goto(f"/journal/{assignment_id}")
    expect(phone.get_by_role("heading", name="Guided breathing")).to_be_visible()
    phone.wait_for_function("() => !!window.kjBreathing")
    phase = phone.locator("#breath-phase")
    expect(phase).to_have_text("Ready when you are.")
    expect(phase).to_have_attribute("aria-live", "polite")
    phone.get_by_role("button", name="Start").click()
    expect(phase).to_have_text("Breathe in")
    expect(phone.locator("#breath-round")).to_have_text(re.compile(r"Round 1 of \d+"))
    expect(phase).to_have_text("Hold", timeout=8_000)
    _check_page(phone, "integration-06-breathing")
    phone.get_by_role("button", name="Pause").click()
    expect(phase).to_have_text("Paused")
    expect(phone.locator("#breathing")).to_have_attribute("data-state", "paused")
    # The reflection is optional: done without a word.
    phone.get_by_role("button", name="Mark as done").click()
    expect(phone.locator("#exercise-done")).to_be_visible()


def _safety_plan(phone) -> None:
    phone.goto("/safety-plan")
    expect(phone.get_by_role("heading", name="My safety plan")).to_be_visible()
    expect(phone.locator(".plan-step")).to_have_count(7)
    # The demo seed has Alex's first steps, written with Dr. Chen.
    expect(phone.locator("#plan-updated")).to_contain_text("by Dr. Maya Chen")
    expect(phone.locator("#call-crisis-line")).to_be_visible()
    assert phone.locator("#crisis-numbers a[href='tel:988']").count() == 1
    assert phone.locator("#crisis-numbers a[href='tel:911']").count() == 1
    _check_page(phone, "integration-07-safety-plan")

    signs = phone.get_by_label("Warning signs")
    signs.fill("Not sleeping; cancelling plans")
    phone.get_by_label("People I can ask for help").fill(f"My sister Jo 555 0101 {HOSTILE}")
    signs.click()  # leaves step 4: saved on blur
    expect(phone.locator("#plan-saved")).to_have_text("Saved")
    expect(phone.locator("#plan-updated")).to_contain_text("by you")

    coping = phone.get_by_label("Things I can do on my own")
    before = coping.input_value()
    coping.fill("w" * 2500)
    signs.click()
    expect(phone.locator("#plan-coping-error")).to_contain_text("2,000 characters")
    assert len(coping.input_value()) == 2500
    _check_page(phone, "integration-08-safety-plan-too-long")

    phone.reload()
    expect(phone.get_by_label("Warning signs")).to_have_value("Not sleeping; cancelling plans")
    expect(phone.get_by_label("People I can ask for help")).to_have_value(
        f"My sister Jo 555 0101 {HOSTILE}"
    )
    expect(phone.get_by_label("Things I can do on my own")).to_have_value(before)
    expect(phone.locator("#plan-updated")).to_contain_text("Last updated Today")


def test_alex_does_his_integration_work_and_dr_chen_reads_it(phone, desktop, app_db_url):
    ids = _arrange(app_db_url)
    sign_in(phone, ALEX, CLIENT_PASSWORD)
    phone.goto("/journal")
    expect(phone.get_by_role("heading", name="Integration journal")).to_be_visible()
    for assignment in ids.values():
        expect(phone.locator(f"#exercise-link-{assignment}")).to_contain_text("Due today")
    todo, done = phone.locator(".exercise-todo").count(), phone.locator(".exercise-done").count()
    _check_page(phone, "integration-01-journal")

    _intention_exercise(phone, ids["intention"])
    _breathing(phone, ids["breathing"])
    phone.goto("/journal")
    expect(phone.locator(".exercise-todo")).to_have_count(todo - 2)
    expect(phone.locator(".exercise-done")).to_have_count(done + 2)
    _check_page(phone, "integration-02-journal-after")
    _safety_plan(phone)

    # Dr. Chen, at her desk, reads what Alex wrote and sees his plan.
    sign_in(desktop, MAYA, STAFF_PASSWORD)
    desktop.locator("#client-table").get_by_role("link", name="Alex Rivera").click()
    expect(desktop.locator("#client-name")).to_have_text("Alex Rivera")
    done = desktop.locator(f"#staff-exercise-{ids['intention']}")
    expect(done).to_have_attribute("data-status", "completed")
    expect(done.locator(".exercise-response")).to_have_text(REFLECTION)
    expect(desktop.locator(f"#staff-exercise-{ids['journal_week']}")).to_have_attribute(
        "data-status", "assigned"
    )
    expect(desktop.get_by_label("1. Warning signs")).to_have_value("Not sleeping; cancelling plans")
    expect(desktop.locator("#staff-plan-updated")).to_contain_text("by Alex Rivera")
    desktop.locator("#exercises-panel").scroll_into_view_if_needed()
    _check_page(desktop, "integration-09-clinician", width=1280)

    # She withdraws the one Alex no longer needs; it leaves his list.
    desktop.get_by_role("button", name="Withdraw Journal: a week on").click()
    expect(desktop.locator(f"#staff-exercise-{ids['journal_week']}")).to_have_attribute(
        "data-status", "withdrawn"
    )
    phone.goto("/journal")
    expect(phone.locator(".exercise-todo")).to_have_count(todo - 3)
    expect(phone.locator(f"#exercise-link-{ids['journal_week']}")).to_have_count(0)

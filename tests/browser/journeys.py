"""Steps and checks that several browser journeys share."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import serious_violations, shot


def check_page(page: Page, name: str) -> None:
    """Once its toasts are gone: a screenshot ``name``, no serious axe-core problem, and no
    sideways scroll at the page's width."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    shot(page, name)
    found = serious_violations(page)
    assert found == [], f"{name}: {found}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name} scrolls sideways ({width}px)"


def scale_choice(page: Page, scale: str, word: str) -> Locator:
    """The check-in's radio ``word`` (say "Good") on its ``scale`` (mood, anxiety, sleep...)."""
    return page.locator(f"#scale-{scale}").get_by_role("radio", name=word, exact=True)


def tap(page: Page, scale: str, word: str) -> None:
    """Tap a check-in answer and see it chosen."""
    choice = scale_choice(page, scale, word)
    choice.click()
    expect(choice).to_be_checked()


def resolve_in_dialog(page: Page, *, form: str, outcome: str, note: str, name: str) -> None:
    """In the open resolve dialog (ids ``{form}-…``): sent empty, both fields say what they
    need; then ``outcome`` and ``note``, the page checked as ``name``, and sent: it closes."""
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog.locator(f"#{form}-note-error")).to_contain_text("Write a short note")
    expect(dialog.locator(f"#{form}-outcome-error")).to_contain_text("Choose what came of it")
    dialog.get_by_label("What came of it").select_option(outcome)
    dialog.get_by_label("What was done").fill(note)
    check_page(page, name)
    dialog.get_by_role("button", name="Resolve alert").click()
    expect(dialog).to_be_hidden()

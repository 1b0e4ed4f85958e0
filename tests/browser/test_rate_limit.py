"""Rate limits in the real app at phone size (issue 7, S11): a script tapping a check-in scale as
fast as it can is cut off (a calm toast, one audit row), the page works again after a moment,
and another person's check-in at the same time is untouched. Typing a long note quickly is
normal use and is never cut off (the note is saved as typed, debounced).

Clients are made for this test alone on the server's own database.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import AuditEvent, CheckIn
from kapjourney.ui.guard import RATE_LIMITED
from tests.browser.conftest import PHONE, serious_violations, shot, sign_in
from tests.browser.people import make_client

PASSWORD = "steady lantern evening"
FLOOD = 100
# 100 taps on one scale, alternating two answers so every tap is a change the page sends.
FLOOD_SCRIPT = """(count) => {
  const items = document.querySelectorAll('#scale-energy input[type="radio"]');
  for (let i = 0; i < count; i++) items[i % 2].click();
  return items.length;
}"""


def _client(db_url: str, who: str) -> int:
    return make_client(
        db_url,
        email=f"{who}.flood@riverbend.example",
        password=PASSWORD,
        name=f"{who.title()} Flood",
        clinic_name=f"{who.title()} Flood Clinic",
        slug=f"{who}-flood",
    )


def _audit_rows(db_url: str, user_id: int) -> list[AuditEvent]:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            query = select(AuditEvent).where(
                AuditEvent.action == "rate_limited", AuditEvent.actor_id == user_id
            )
            return list(s.exec(query).all())
    finally:
        engine.dispose()


def _checkins(db_url: str, user_id: int) -> list[CheckIn]:
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return list(s.exec(select(CheckIn).where(CheckIn.client_id == user_id)).all())
    finally:
        engine.dispose()


def _tap(page, scale: str, word: str) -> None:
    choice = page.locator(f"#scale-{scale}").get_by_role("radio", name=word, exact=True)
    choice.click()
    expect(choice).to_be_checked()


def _three_taps(page) -> None:
    _tap(page, "mood", "Good")
    _tap(page, "anxiety", "Calm")
    _tap(page, "sleep", "Okay")
    expect(page.locator("#saved")).to_contain_text("Saved for today at")


def _open_checkin(page, who: str) -> None:
    sign_in(page, f"{who}.flood@riverbend.example", PASSWORD)
    page.goto("/checkin")
    expect(page.get_by_role("heading", name="Daily check-in")).to_be_visible()
    expect(page.locator("#scale-energy")).to_be_visible()


def _count_sent(page, name: str) -> list[int]:
    """A live count of websocket frames the page sends to ``name`` (a handler)."""
    sent = [0]

    def watch(ws) -> None:
        ws.on("framesent", lambda frame: sent.__setitem__(0, sent[0] + (name in str(frame))))

    page.on("websocket", watch)
    return sent


def test_a_tapping_flood_is_cut_off_and_another_person_is_not(browser, app_url, app_db_url):
    flooder_id, other_id = _client(app_db_url, "fern"), _client(app_db_url, "gus")
    ctx_a = browser.new_context(base_url=app_url, **PHONE)
    ctx_b = browser.new_context(base_url=app_url, **PHONE)
    try:
        flooder, other = ctx_a.new_page(), ctx_b.new_page()
        sent = _count_sent(flooder, ".tap")
        _open_checkin(flooder, "fern")
        _open_checkin(other, "gus")

        assert flooder.evaluate(FLOOD_SCRIPT, FLOOD) >= 2
        toast = flooder.get_by_text(RATE_LIMITED)
        expect(toast).to_be_visible()
        # Meanwhile another person checks in as usual, and is told nothing about limits.
        _three_taps(other)
        expect(other.get_by_text(RATE_LIMITED)).to_have_count(0)
        assert [c.status for c in _checkins(app_db_url, other_id)] == ["submitted"]

        assert sent[0] >= FLOOD  # every tap went to the server, which ran at most a burst
        shot(flooder, "rate-limit-01-flood-toast")
        assert serious_violations(flooder) == []
        rows = _audit_rows(app_db_url, flooder_id)
        assert [(r.outcome, r.target) for r in rows] == [("denied", "CheckInState.tap")]

        time.sleep(3)  # the allowance is back two seconds after the burst
        _three_taps(flooder)
        assert [c.status for c in _checkins(app_db_url, flooder_id)] == ["submitted"]
        shot(flooder, "rate-limit-02-working-again")
        assert len(_audit_rows(app_db_url, flooder_id)) == 1  # one row for the whole flood
    finally:
        ctx_a.close()
        ctx_b.close()


def test_typing_a_long_note_fast_is_never_cut_off(phone, app_db_url):
    client_id = _client(app_db_url, "hana")
    sent = _count_sent(phone, ".type_note")
    _open_checkin(phone, "hana")
    note_text = " ".join(["Slept well and walked by the river; feeling steadier today."] * 5) + "!"
    assert len(note_text) == 300
    note = phone.get_by_label("A note for yourself or your care team (optional)")
    started = time.monotonic()
    note.press_sequentially(note_text, delay=20)  # about 50 keys a second
    typing_seconds = time.monotonic() - started
    expect(phone.locator("#checkin-note-count")).to_have_text(re.compile(r"^300 / "))
    phone.get_by_role("heading", name="Daily check-in").click()  # leave the field: saved now

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = _checkins(app_db_url, client_id)
        if rows and rows[0].note == note_text:
            break
        time.sleep(0.25)
    assert [r.note for r in _checkins(app_db_url, client_id)] == [note_text]
    expect(phone.get_by_text(RATE_LIMITED)).to_have_count(0)
    assert _audit_rows(app_db_url, client_id) == []
    # The debounce sends a handful of saves for 300 keys, far under the 20-event burst.
    rate = sent[0] / typing_seconds
    print(f"typing: {sent[0]} type_note events in {typing_seconds:.1f} s ({rate:.2f}/s)")
    assert 1 <= sent[0] <= 10
    shot(phone, "rate-limit-03-typed-note")

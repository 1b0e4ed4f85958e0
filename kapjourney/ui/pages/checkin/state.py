"""The check-in page's state: each tap is saved at once, and once mood, anxiety and sleep are all
answered the day's check-in is submitted (that is the three taps). The note is saved as it is
typed; the message for a too-long note sits at the note and the text stays as typed."""

from __future__ import annotations

import uuid

import reflex as rx

from kapjourney.domain.checkin import NOTE_KEEP_MAX, NOTE_MAX, REQUIRED, SCALE_BY_KEY
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import CheckInScaleView, CheckInView
from kapjourney.services import checkins
from kapjourney.services.validation import small_int
from kapjourney.ui.guard import UNAVAILABLE, authorized, call_service
from kapjourney.ui.session_state import remember

PROBLEM_KEYS = (*SCALE_BY_KEY, "note", "day", "form")
AGAIN = "That did not go through. Please try again."


class CheckInState(rx.State):
    loaded: bool = False
    day: str = "today"  # today | yesterday
    date_label: str = ""
    status: str = ""  # new | draft | submitted
    late: bool = False
    saved_at: str = ""
    yesterday_open: bool = False
    yesterday_until: str = ""
    scales: list[CheckInScaleView] = []
    answers: dict[str, str] = {}  # scale key -> "1".."5" or ""
    note: str = ""  # as typed
    note_max: int = NOTE_MAX
    problems: dict[str, str] = {}

    def _take(self, view: CheckInView, *, keep_note: bool = False) -> None:
        self.day, self.date_label, self.status = view.day, view.date_label, view.status
        self.late, self.saved_at = view.late, view.saved_at
        self.yesterday_open, self.yesterday_until = view.yesterday_open, view.yesterday_until
        self.scales, self.note_max = view.scales, view.note_max
        values = {"mood": view.mood, "anxiety": view.anxiety, "sleep": view.sleep}
        values["energy"] = view.energy
        self.answers = {k: str(v) if v else "" for k, v in values.items()}
        if not keep_note:
            self.note = view.note
        self.problems = {k: view.problems.get(k, "") for k in PROBLEM_KEYS}

    def _show(self, fields: dict[str, str]) -> None:
        """Messages at their fields; a message for no field on screen goes to the form."""
        shown = {k: str(fields.get(k, ""))[:300] for k in PROBLEM_KEYS}
        if not any(shown.values()):
            shown["form"] = AGAIN
        self.problems = shown

    async def _open(self, day: str):
        try:
            self._take(await call_service(checkins.get_checkin, day=day))
        except ValidationFailed as problem:  # yesterday closed while the page was open
            if day == "yesterday":
                return await self._open("today")
            self._show(problem.fields)
        except NotFound:
            self._show({"form": AGAIN})
        self.loaded = True
        return None

    def _keep_while_unavailable(self, handler: str, arguments: dict) -> bool:
        """The database did not answer (see the guard): keep the tap or the note in this tab, so
        it stays on screen and the next Save sends it, and say so at the form. Nothing is read
        or written; the tab holds only what its own browser sent."""
        key, value = arguments.get("key"), arguments.get("value")
        if handler == "tap" and isinstance(key, str) and key in SCALE_BY_KEY:
            if isinstance(value, str) and small_int(value) is not None:
                self.answers[key] = value[:3]
        elif handler == "type_note" and isinstance(value, str):
            self.note = value[:NOTE_KEEP_MAX]
        self.problems["form"] = UNAVAILABLE
        return True

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = False
        await self._open("today")

    @rx.event
    @authorized(Role.CLIENT)
    async def choose_day(self, day: str | list[str]):
        """Switch between today's check-in and yesterday's (late) one."""
        if isinstance(day, str) and day in ("today", "yesterday") and day != self.day:
            await self._open(day)

    async def _submit(self) -> None:
        try:
            view = await call_service(
                checkins.submit_checkin,
                submission_id=str(uuid.uuid4()),
                day=self.day,
                mood=self.answers.get("mood", ""),
                anxiety=self.answers.get("anxiety", ""),
                sleep=self.answers.get("sleep", ""),
                energy=self.answers.get("energy") or None,
                note=self.note,
            )
        except ValidationFailed as problem:
            self._show(problem.fields)
            return
        except NotFound:
            self._show({"form": AGAIN})
            return
        self._take(view, keep_note=True)

    @rx.event
    @authorized(Role.CLIENT)
    async def tap(self, key: str, value: str):
        """One answer tapped: saved at once; with mood, anxiety and sleep answered, submitted."""
        if not isinstance(key, str) or key not in SCALE_BY_KEY or not isinstance(value, str):
            return
        if small_int(value) is None:
            return
        self.answers[key] = value[:3]
        try:
            await call_service(
                checkins.save_checkin_draft, day=self.day, field=key, value=value[:3]
            )
        except ValidationFailed as problem:
            self._show(problem.fields)
            return
        except NotFound:
            self._show({"form": AGAIN})
            return
        self.problems[key] = ""
        self.problems["form"] = ""
        if all(self.answers.get(k) for k in REQUIRED):
            await self._submit()

    @rx.event
    @authorized(Role.CLIENT)
    async def type_note(self, value: str):
        """The note as typed (debounced, and on leaving the field): kept in the draft."""
        if not isinstance(value, str):
            return
        self.note = value[:NOTE_KEEP_MAX]
        try:
            view = await call_service(
                checkins.save_checkin_draft, day=self.day, field="note", value=self.note
            )
        except ValidationFailed as problem:
            self._show(problem.fields)
            return
        except NotFound:
            self._show({"form": AGAIN})
            return
        self.problems["note"] = view.problems.get("note", "")
        self.problems["form"] = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def save(self):
        """The Save button: submit the day's check-in again (it updates the same entry)."""
        await self._submit()

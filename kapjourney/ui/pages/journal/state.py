"""States of the integration journal: the list of exercises, and one exercise being written."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.exercises import RESPONSE_MAX
from kapjourney.domain.schemas import ExerciseRow, ExerciseView
from kapjourney.services import exercises
from kapjourney.services.validation import record_id, small_int
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

SENT_MAX = RESPONSE_MAX + 1  # the browser sends at most this much: enough to know it is too long
TOO_LONG = (
    f"That is more than {RESPONSE_MAX:,} characters. Please shorten it a little: what you "
    "wrote is still here."
)


class JournalState(rx.State):
    loaded: bool = False
    todo: list[ExerciseRow] = []
    done: list[ExerciseRow] = []

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = False
        rows = await call_service(exercises.list_exercises)
        self.todo = [r for r in rows if r.status == "assigned"]
        self.done = [r for r in rows if r.status == "completed"]
        self.loaded = True


class ExerciseState(rx.State):
    loaded: bool = False
    missing: bool = False
    exercise_id: int = 0  # (the route's own segment is ``assignment_id``, a string)
    title: str = ""
    kind: str = ""
    intro: str = ""
    prompts: list[str] = []
    minutes: int = 0
    source: str = ""
    note: str = ""
    due: str = ""
    overdue: bool = False
    status: str = ""
    session_label: str = ""
    intention: str = ""
    intention_session: str = ""
    completed: str = ""
    response: str = ""  # as loaded: the box's starting text (the box itself keeps what is typed)
    count: int = 0
    max_chars: int = RESPONSE_MAX
    error: str = ""
    form_error: str = ""
    saved: str = ""
    version: int = 0  # bumped on each load: the box remounts with the text just read
    _text: str = ""  # the latest text the browser sent
    _length: int = 0  # its full length in the browser (it sends at most SENT_MAX characters)

    def _take(self, view: ExerciseView) -> None:
        self.exercise_id, self.title, self.kind = view.assignment_id, view.title, view.kind
        self.intro, self.prompts, self.minutes = view.intro, view.prompts, view.minutes
        self.source, self.note, self.due, self.overdue = (
            view.source,
            view.note,
            view.due,
            view.overdue,
        )
        self.status, self.session_label, self.completed = (
            view.status,
            view.session_label,
            view.completed,
        )
        self.intention, self.intention_session = view.intention, view.intention_session
        self.max_chars = view.max_chars

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.missing = False
        self.error = self.form_error = self.saved = ""
        self.version += 1
        raw = getattr(self, "assignment_id", "")
        try:
            wanted = record_id(raw if isinstance(raw, str) else "")
            if not wanted:
                raise NotFound("exercise")
            view = await call_service(exercises.get_exercise, assignment_id=wanted)
        except NotFound:
            self.missing = True
            self.loaded = True
            return
        self._take(view)
        self.response = self._text = view.response
        self.count = self._length = len(view.response)
        self.loaded = True

    def _keep(self, text: object, length: object) -> bool:
        """Remember what the browser sent; False when it is not text."""
        if not isinstance(text, str):
            return False
        self._text = text[:SENT_MAX]
        size = small_int(length)
        self._length = size if size is not None and size >= len(self._text) else len(self._text)
        self.count = self._length
        return True

    def _problem(self, problem: ValidationFailed) -> None:
        self.error = str(problem.fields.get("text", ""))[:300]
        self.form_error = str(problem.fields.get("form", ""))[:300]
        self.saved = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def draft(self, text: str, length: int):
        """Keep what is typed: on leaving the box and after a pause in typing."""
        if self.status != "assigned" or not self._keep(text, length):
            return
        if self._length > self.max_chars:
            self.error, self.saved = TOO_LONG, ""
            return
        try:
            await call_service(
                exercises.save_exercise_draft, assignment_id=self.exercise_id, text=self._text
            )
        except ValidationFailed as problem:
            self._problem(problem)
            return
        except NotFound:
            self.form_error = "We couldn't save that just now. Please reload the page."
            return
        self.error = self.form_error = ""
        self.saved = "Draft saved"

    @rx.event
    @authorized(Role.CLIENT)
    async def complete(self):
        """Mark as done with the latest text (the box is saved as it loses focus to the button)."""
        if self._length > self.max_chars:
            self.error, self.saved = TOO_LONG, ""
            return rx.set_focus("exercise-text")
        try:
            view = await call_service(
                exercises.complete_exercise, assignment_id=self.exercise_id, text=self._text
            )
        except ValidationFailed as problem:
            self._problem(problem)
            return rx.set_focus("exercise-text") if self.error else None
        except NotFound:
            self.form_error = "We couldn't find this exercise. Please go back to your journal."
            return None
        self._take(view)
        self.response = view.response
        self.error = self.form_error = self.saved = ""
        return rx.scroll_to("exercise-done")

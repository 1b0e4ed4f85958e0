"""The due questionnaire's state: answers saved as they are given, skip logic, and where to go
after submitting (the C-SSRS after a worrying PHQ-9; support after a worrying C-SSRS)."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.instruments import INSTRUMENTS, visible_answers
from kapjourney.domain.schemas import FormItemView, QuestionnaireForm
from kapjourney.routes import SUPPORT, form_url
from kapjourney.services import questionnaires
from kapjourney.services.today import get_today
from kapjourney.services.validation import small_int
from kapjourney.ui.components.questionnaire import show_result
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

TEXT_MAX = 10_000
KEY_MAX = 40
WORRYING = ("urgent", "emergency")


class DueFormState(rx.State):
    loaded: bool = False
    missing: bool = False  # not due, not started, or not this client's
    key: str = ""
    title: str = ""
    preamble: str = ""
    source: str = ""
    items: list[FormItemView] = []
    answers: dict[str, str] = {}
    problems: dict[str, str] = {}
    hidden: dict[str, bool] = {}  # asked only after another answer (C-SSRS skip logic)
    required: int = 0
    answered: int = 0
    alert: bool = False
    clinic_phone: str = ""

    def _take(self, form: QuestionnaireForm) -> None:
        self.key, self.title, self.preamble = form.instrument, form.title, form.preamble
        self.source = form.source
        self.items = form.items
        self.answers = {i.key: i.answer for i in form.items}
        self.problems = {i.key: "" for i in form.items}
        self._refresh()

    def _refresh(self) -> None:
        """Which questions are asked given the answers so far, and how many are done."""
        instrument = INSTRUMENTS.get(self.key)
        if instrument is None:
            return
        given = {k: small_int(v) for k, v in self.answers.items() if v != ""}
        shown = visible_answers(instrument, given)
        self.hidden = {i.key: not i.shown(shown) for i in instrument.items}
        asked = [i.key for i in instrument.items if i.required and not self.hidden[i.key]]
        self.required = len(asked)
        self.answered = sum(1 for k in asked if self.answers.get(k, "") != "")

    async def _show_crisis(self) -> None:
        if not self.alert:
            self.clinic_phone = (await call_service(get_today)).clinic_phone
            self.alert = True

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.missing = self.alert = False
        (await self.get_state(DueResultState)).reset()
        raw = getattr(self, "instrument", "")
        key = raw if isinstance(raw, str) else ""
        try:
            if not (key.isascii() and key.isalnum() and len(key) <= KEY_MAX):
                raise NotFound("questionnaire")
            self._take(await call_service(questionnaires.get_due_form, instrument=key))
        except (NotFound, ValidationFailed):
            self.missing = True
        self.loaded = True

    @rx.event
    @authorized(Role.CLIENT)
    async def choose(self, item: str, value: str):
        """A choice: saved to the draft at once."""
        if not isinstance(item, str) or item not in self.answers or not isinstance(value, str):
            return
        if small_int(value) is None:
            return
        self.answers[item] = value[:TEXT_MAX]
        self._refresh()
        try:
            saved = await call_service(
                questionnaires.save_due_answer, instrument=self.key, item=item, value=value
            )
        except ValidationFailed as problem:
            self.problems[item] = problem.fields.get(item, "Please check this answer.")[:300]
            return
        except NotFound:
            return
        self.problems[item] = saved.problem
        if saved.alert:
            await self._show_crisis()

    @rx.event
    @authorized(Role.CLIENT)
    async def submit(self):
        try:
            result = await call_service(questionnaires.submit_due_form, instrument=self.key)
        except ValidationFailed as problem:
            self.problems = {k: problem.fields.get(k, "")[:300] for k in self.answers}
            first = next((i.key for i in self.items if self.problems.get(i.key)), "")
            return rx.scroll_to(f"item-{first}" if first else "questionnaire")
        except NotFound:
            return rx.toast.error("Not found.")
        if result.next_form:
            return rx.redirect(form_url(result.next_form))
        if self.key == "cssrs" and result.tier in WORRYING:
            return rx.redirect(SUPPORT)
        if result.alert:
            await self._show_crisis()
        show_result(await self.get_state(DueResultState), result)
        return rx.scroll_to("questionnaire")


class DueResultState(rx.State):
    shown: bool = False
    scored: bool = False
    score: int = 0
    max_score: int = 0
    band: str = ""

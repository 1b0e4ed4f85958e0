"""One questionnaire: each answer is saved as it is given; submit scores it for the clinician.

A worrying answer (PHQ-9 item 9 above zero) brings crisis resources onto the screen at once.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import FormItemView, QuestionnaireForm
from kapjourney.routes import QUESTIONNAIRE, SCREENING
from kapjourney.services import screening
from kapjourney.services.today import get_today
from kapjourney.services.validation import small_int
from kapjourney.ui.components.choices import loading, not_found
from kapjourney.ui.components.crisis import crisis_callout
from kapjourney.ui.components.questionnaire import (
    answered_count,
    question_card,
    score_result,
    show_result,
)
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember

TEXT_MAX = 10_000
KEY_MAX = 40


def _param(state: rx.State, name: str) -> str:
    """A dynamic route segment as the browser sent it (validated by the caller)."""
    value = getattr(state, name, "")
    return value if isinstance(value, str) else ""


class QuestionnaireState(rx.State):
    loaded: bool = False
    missing: bool = False  # no such questionnaire for this client
    key: str = ""
    title: str = ""
    preamble: str = ""
    source: str = ""
    items: list[FormItemView] = []
    answers: dict[str, str] = {}
    problems: dict[str, str] = {}
    required: int = 0
    answered: int = 0
    alert: bool = False
    clinic_phone: str = ""
    _required_keys: list[str] = []

    def _take(self, form: QuestionnaireForm) -> None:
        self.key, self.title, self.preamble = form.instrument, form.title, form.preamble
        self.source = form.source
        self.items = form.items
        self.answers = {i.key: i.answer for i in form.items}
        self.problems = {i.key: "" for i in form.items}
        self._required_keys = [i.key for i in form.items if i.required]
        self.required = len(self._required_keys)
        self._count()

    def _count(self) -> None:
        self.answered = sum(1 for k in self._required_keys if self.answers.get(k, "") != "")

    async def _show_crisis(self) -> None:
        if not self.alert:
            self.clinic_phone = (await call_service(get_today)).clinic_phone
            self.alert = True

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.missing = self.alert = False
        (await self.get_state(ResultState)).reset()
        key = _param(self, "instrument")
        try:
            if not (key.isascii() and key.isalnum() and len(key) <= KEY_MAX):
                raise NotFound("questionnaire")
            form = await call_service(screening.get_form, instrument=key)
            self._take(form)
            # Already sent and nothing new started: say so rather than show an empty form.
            (await self.get_state(ResultState)).shown = form.submitted and form.answered == 0
        except (NotFound, ValidationFailed):
            self.missing = True
        self.loaded = True

    async def _save(self, item: str, value: str):
        if not isinstance(item, str) or item not in self.answers or not isinstance(value, str):
            return
        value = value[:TEXT_MAX]
        self.answers[item] = value
        self._count()
        try:
            saved = await call_service(
                screening.save_answer, instrument=self.key, item=item, value=value
            )
        except ValidationFailed as problem:
            self.problems[item] = problem.fields.get(item, "Please check this answer.")
            return
        except NotFound:
            return
        self.problems[item] = saved.problem
        if saved.alert:
            await self._show_crisis()

    @rx.event
    @authorized(Role.CLIENT)
    async def choose(self, item: str, value: str):
        """A radio answer: saved to the draft at once."""
        if small_int(value) is not None:
            await self._save(item, value)

    @rx.event
    @authorized(Role.CLIENT)
    async def write(self, item: str, value: str):
        """A typed answer, saved when the field loses focus."""
        await self._save(item, value)

    @rx.event
    @authorized(Role.CLIENT)
    async def submit(self):
        try:
            result = await call_service(screening.submit_form, instrument=self.key)
        except ValidationFailed as problem:
            self.problems = {k: problem.fields.get(k, "") for k in self.answers}
            first = next((i.key for i in self.items if self.problems.get(i.key)), "")
            return rx.scroll_to(f"item-{first}" if first else "questionnaire")
        except NotFound:
            return rx.toast.error("Not found.")
        if result.alert:
            await self._show_crisis()
        show_result(await self.get_state(ResultState), result)
        return rx.scroll_to("questionnaire")


class ResultState(rx.State):
    shown: bool = False
    scored: bool = False
    score: int = 0
    max_score: int = 0
    band: str = ""


def _form() -> rx.Component:
    return rx.vstack(
        rx.text(QuestionnaireState.preamble, size="3", weight="medium"),
        rx.foreach(
            QuestionnaireState.items,
            lambda item: question_card(item, QuestionnaireState, text_input=True),
        ),
        answered_count(QuestionnaireState),
        rx.button(
            "Submit", size="3", width="100%", on_click=QuestionnaireState.submit, id="q-submit"
        ),
        rx.text(
            "Saved as you go. Source: ", QuestionnaireState.source, size="1", color_scheme="gray"
        ),
        spacing="4",
        width="100%",
    )


def _result() -> rx.Component:
    return score_result(
        ResultState,
        rx.link("Back to your screening", href=SCREENING, weight="medium", id="q-back"),
    )


@client_page(QUESTIONNAIRE, "Questionnaire", on_load=QuestionnaireState.load)
def questionnaire_page() -> rx.Component:
    return rx.cond(
        QuestionnaireState.loaded,
        rx.cond(
            QuestionnaireState.missing,
            not_found("that questionnaire", "Back to your screening", SCREENING),
            rx.vstack(
                rx.link("‹ Screening", href=SCREENING, size="2"),
                rx.heading(QuestionnaireState.title, size="6", as_="h1"),
                rx.cond(QuestionnaireState.alert, crisis_callout(QuestionnaireState.clinic_phone)),
                rx.cond(ResultState.shown, _result(), _form()),
                spacing="4",
                width="100%",
                id="questionnaire",
            ),
        ),
        loading(),
    )

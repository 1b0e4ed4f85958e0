"""The comprehension questions. A wrong answer shows its section again, right under it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ConsentFlowView
from kapjourney.services import consent
from kapjourney.services.validation import small_int
from kapjourney.ui.components.choices import choice_card, choice_cards, problem_text
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.consent.reading import paragraphs
from kapjourney.ui.pages.consent.state import ConsentState

CHOOSE = "Please choose an answer."
WRONG = "Not quite. Here is that part of the document again: read it, then choose again."


@dataclass
class QuizItem:
    index: int = 0
    text: str = ""
    choices: list[str] = field(default_factory=list)
    section_title: str = ""
    section_text: list[str] = field(default_factory=list)
    answer: str = ""  # the chosen choice's index, as text ("" when none)
    message: str = ""  # shown under the question after a check


class ConsentQuizState(rx.State):
    questions: list[QuizItem] = []
    quiz_error: str = ""

    def _take(self, flow: ConsentFlowView) -> None:
        texts = {s.index: list(s.paragraphs) for s in flow.sections}
        kept = {q.index: q.answer for q in self.questions}
        self.questions = [
            QuizItem(
                index=q.index,
                text=q.text,
                choices=list(q.choices),
                section_title=q.section_title,
                section_text=texts.get(q.section_index, []),
                answer=kept.get(q.index, ""),
            )
            for q in flow.questions
        ]
        self.quiz_error = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def choose(self, question: int, value: str):
        """Keep an answer in this tab until the check (they are not health data)."""
        choice = small_int(value)
        if type(question) is not int or choice is None or choice < 0:
            return
        self.questions = [
            replace(q, answer=str(choice)) if q.index == question and choice < len(q.choices) else q
            for q in self.questions
        ]

    @rx.event
    @authorized(Role.CLIENT)
    async def check(self):
        flow = await self.get_state(ConsentState)
        answers = {
            str(q.index): small_int(q.answer)
            for q in self.questions
            if small_int(q.answer) is not None
        }
        try:
            result = await call_service(
                consent.check_answers, document_id=flow.document_id, answers=answers
            )
        except ValidationFailed as problem:
            self.quiz_error = next(iter(problem.fields.values()), "")
            return ConsentState.load
        except NotFound:
            return rx.toast.error("Not found.")
        if result.passed:
            flow.step = "sign"
            return rx.scroll_to("consent")
        wrong = set(result.wrong)
        self.questions = [
            replace(q, message=(WRONG if q.answer else CHOOSE) if q.index in wrong else "")
            for q in self.questions
        ]
        self.quiz_error = "Some answers need another look. They are marked below."
        return rx.scroll_to(f"question-{min(wrong)}" if wrong else "consent")


def _question(q: QuizItem) -> rx.Component:
    qid = "question-" + q.index.to_string()
    return rx.card(
        rx.vstack(
            rx.text(q.text, weight="medium", size="3", id=qid + "-text"),
            choice_cards(
                rx.foreach(q.choices, lambda c, i: choice_card(c, i.to_string())),
                question_id=qid + "-text",
                value=q.answer,
                on_change=lambda v: ConsentQuizState.choose(q.index, v),
                invalid=q.message != "",
                described_by=qid + "-problem",
            ),
            problem_text(q.message, qid + "-problem"),
            rx.cond(
                (q.message != "") & (q.section_text.length() > 0),
                rx.box(
                    rx.text("From “", q.section_title, "”", weight="bold", size="2"),
                    paragraphs(q.section_text),
                    padding="12px",
                    border_radius="8px",
                    background_color=rx.color("amber", 2),
                    border=f"1px solid {rx.color('amber', 7)}",
                    width="100%",
                    class_name="reread",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=qid,
        scroll_margin_top="80px",  # clear of the sticky header
    )


def quiz_step() -> rx.Component:
    return rx.vstack(
        rx.heading("A few questions", size="5", as_="h2"),
        rx.text(
            "To check the document was clear, choose the answer you think is right. "
            "This is not a test of you: if one is wrong, we show you that part again.",
            size="3",
        ),
        rx.foreach(ConsentQuizState.questions, _question),
        rx.cond(
            ConsentQuizState.quiz_error != "",
            rx.callout(
                ConsentQuizState.quiz_error,
                icon="info",
                color_scheme="amber",
                high_contrast=True,
                role="alert",
                width="100%",
                id="quiz-error",
            ),
        ),
        rx.button(
            "Check my answers",
            size="3",
            width="100%",
            on_click=ConsentQuizState.check,
            id="quiz-check",
        ),
        spacing="4",
        width="100%",
    )

"""The screening task list: what to fill in, how long it takes, and whether it was reviewed."""

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import ScreeningTask
from kapjourney.routes import PLAN, SCREENING
from kapjourney.services.screening import get_screening
from kapjourney.ui.components.choices import opening_then
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember


class ScreeningState(rx.State):
    loaded: bool = False
    tasks: list[ScreeningTask] = []
    complete: bool = False
    reviewed: bool = False

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        view = await call_service(get_screening)
        self.tasks = view.tasks
        self.complete = view.complete
        self.reviewed = view.reviewed
        self.loaded = True


def _task(task: ScreeningTask) -> rx.Component:
    label = rx.match(task.status, ("done", "Done"), ("draft", "Started"), "To do")
    return rx.link(
        rx.card(
            rx.hstack(
                rx.vstack(
                    rx.text(task.title, weight="bold", size="4", color=rx.color("gray", 12)),
                    rx.text(
                        "About ",
                        task.minutes.to_string(),
                        " minutes",
                        size="2",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    flex="1",
                ),
                rx.badge(
                    label,
                    color_scheme=rx.match(
                        task.status, ("done", "green"), ("draft", "amber"), "gray"
                    ),
                    high_contrast=True,
                    size="2",
                ),
                rx.icon("chevron-right", size=20, color=rx.color("gray", 11), aria_hidden="true"),
                align="center",
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        href="/screening/" + task.instrument,
        underline="none",
        width="100%",
        class_name="screening-task",
        data_status=task.status,
    )


def _review_status() -> rx.Component:
    return rx.cond(
        ScreeningState.complete,
        rx.callout(
            rx.cond(
                ScreeningState.reviewed,
                "Your clinician has reviewed your screening.",
                "All done, thank you. Your clinician will review your answers before your "
                "first session and talk through anything with you.",
            ),
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="screening-status",
        ),
        rx.text(
            "Your answers are saved as you go, so you can stop and come back.",
            size="2",
            color_scheme="gray",
            id="screening-status",
        ),
    )


def _screening_body() -> rx.Component:
    return rx.vstack(
        _review_status(),
        rx.vstack(rx.foreach(ScreeningState.tasks, _task), spacing="3", width="100%"),
        rx.link("See your plan", href=PLAN, weight="medium"),
        spacing="4",
        width="100%",
        id="screening",
    )


@client_page(SCREENING, "Health screening", on_load=ScreeningState.load)
def screening_page() -> rx.Component:
    return opening_then(
        rx.heading("Health screening", size="7", as_="h1"),
        rx.text(
            "A few short questionnaires help your care team plan your sessions safely. "
            "Only you and your care team see your answers.",
            size="3",
        ),
        loaded=ScreeningState.loaded,
        body=_screening_body(),
    )

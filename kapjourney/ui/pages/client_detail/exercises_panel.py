"""Integration exercises: assign from the library (to a session, with a due date), read the
finished ones, withdraw one that is no longer wanted."""

from __future__ import annotations

import reflex as rx

from kapjourney.clock import local_today
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.exercises import LIBRARY, NOTE_MAX
from kapjourney.domain.schemas import ExerciseRow
from kapjourney.services.exercises import assign_exercise, list_exercises, withdraw_exercise
from kapjourney.services.validation import record_id
from kapjourney.ui.components.fields import SELECT_STYLE, field_error, form_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import (
    NOT_FOUND,
    STAFF,
    blank,
    clip,
    form_dict,
    messages,
    panel,
    select_field,
)
from kapjourney.ui.pages.client_detail.plan_panel import PlanState

FIELDS = ("exercise", "due_date", "dosing_session_id", "note", "form")
OPTIONS = [(e.key, f"{e.title} ({e.minutes} min)") for e in LIBRARY]
STATUS_COLORS = (("assigned", "indigo"), ("completed", "green"), ("withdrawn", "gray"))


class ExercisesPanelState(rx.State):
    rows: list[ExerciseRow] = []
    errors: dict[str, str] = blank(FIELDS)
    today: str = ""  # the client's today, ISO: the earliest due date
    form_key: int = 0
    _client_id: int = 0

    async def _refresh(self, client_id: int) -> None:
        self.rows = await call_service(list_exercises, client_id=client_id)
        self._client_id = client_id
        self.errors = blank(FIELDS)
        tz = (await self.get_state(PlanState)).timezone
        self.today = local_today(tz).isoformat() if tz else ""

    @rx.event
    @authorized(*STAFF)
    async def assign(self, form_data: dict):
        self.errors = blank(FIELDS)
        data = form_dict(form_data)
        try:
            self.rows = await call_service(
                assign_exercise,
                client_id=self._client_id,
                exercise=clip(data.get("exercise", ""), 100),
                due_date=clip(data.get("due_date", ""), 100),
                dosing_session_id=clip(data.get("dosing_session_id", ""), 20) or None,
                note=clip(data.get("note", ""), NOTE_MAX + 1),
            )
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = messages(problem, FIELDS)
            return None
        self.form_key += 1
        return rx.toast.success("Exercise assigned.")

    @rx.event
    @authorized(*STAFF)
    async def withdraw(self, assignment_id: int):
        try:
            self.rows = await call_service(
                withdraw_exercise, assignment_id=record_id(assignment_id)
            )
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values()), "Please try again."))
        return rx.toast.success("Exercise withdrawn.")


def _row(row: ExerciseRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.text(row.title, weight="bold", size="2"),
                    rx.badge(
                        row.status,
                        color_scheme=rx.match(row.status, *STATUS_COLORS, "gray"),
                        high_contrast=True,
                    ),
                    rx.cond(
                        row.session_label != "",
                        rx.badge(row.session_label, variant="outline"),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    rx.cond(row.status == "completed", "Done " + row.completed, row.due),
                    " · assigned by ",
                    row.assigned_by,
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    row.note != "",
                    rx.text("Note: ", row.note, size="1", color_scheme="gray"),
                ),
                spacing="1",
                flex="1",
                min_width="200px",
            ),
            rx.cond(
                row.status == "assigned",
                rx.button(
                    "Withdraw",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ExercisesPanelState.withdraw(row.assignment_id),
                    aria_label="Withdraw " + row.title,
                ),
            ),
            spacing="3",
            align="start",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            row.response != "",
            rx.box(
                rx.text(
                    row.response,
                    size="2",
                    white_space="pre-wrap",
                    word_break="break-word",
                    class_name="exercise-response",
                ),
                margin_top="8px",
                padding="10px",
                border_radius="8px",
                background_color=rx.color("gray", 2),
                border_left=f"3px solid {rx.color('indigo', 8)}",
            ),
        ),
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="kj-exercise",
        id="staff-exercise-" + row.assignment_id.to_string(),
        data_status=row.status,
    )


def _session_select(error: rx.Var) -> rx.Component:
    field_id = "assign-dosing_session_id"
    return rx.vstack(
        rx.el.label("After session (optional)", html_for=field_id, font_weight="500"),
        rx.el.select(
            rx.el.option("No particular session", value=""),
            rx.foreach(
                PlanState.sessions,
                lambda s: rx.el.option(
                    "Session " + s.number.to_string() + " · " + s.when,
                    value=s.dosing_session_id.to_string(),
                ),
            ),
            id=field_id,
            name="dosing_session_id",
            aria_describedby=f"{field_id}-error",
            style=SELECT_STYLE,
        ),
        field_error(error, f"{field_id}-error"),
        spacing="1",
        width="100%",
    )


def _assign_form() -> rx.Component:
    errors = ExercisesPanelState.errors
    return rx.form(
        rx.vstack(
            rx.heading("Assign an exercise", size="3", as_="h3"),
            form_error(errors["form"]),
            select_field(
                "Exercise",
                name="exercise",
                form="assign",
                options=OPTIONS,
                error=errors["exercise"],
            ),
            rx.grid(
                rx.vstack(
                    rx.el.label("Due date", html_for="assign-due_date", font_weight="500"),
                    rx.input(
                        type="date",
                        id="assign-due_date",
                        name="due_date",
                        min=ExercisesPanelState.today,
                        aria_describedby="assign-due_date-error",
                        aria_invalid=rx.cond(errors["due_date"] != "", "true", "false"),
                        width="100%",
                    ),
                    field_error(errors["due_date"], "assign-due_date-error"),
                    spacing="1",
                    width="100%",
                ),
                _session_select(errors["dosing_session_id"]),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.el.label(
                "A note to the client (optional)", html_for="assign-note", font_weight="500"
            ),
            rx.text_area(
                id="assign-note",
                name="note",
                rows="2",
                max_length=NOTE_MAX,
                width="100%",
                aria_describedby="assign-note-error",
                aria_invalid=rx.cond(errors["note"] != "", "true", "false"),
            ),
            field_error(errors["note"], "assign-note-error"),
            rx.button(rx.icon("notebook-pen", size=16), "Assign exercise", type="submit"),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=ExercisesPanelState.assign,
        key=ExercisesPanelState.form_key,
        id="assign-form",
        no_validate=True,
        width="100%",
    )


def exercises_panel() -> rx.Component:
    return panel(
        "Integration exercises",
        rx.cond(
            ExercisesPanelState.rows.length() > 0,
            rx.vstack(
                rx.foreach(ExercisesPanelState.rows, _row),
                spacing="0",
                width="100%",
                id="staff-exercises",
            ),
            rx.text("No exercises assigned yet.", size="2", color_scheme="gray"),
        ),
        rx.text(
            "The client's writing appears here once they mark an exercise as done.",
            size="1",
            color_scheme="gray",
        ),
        rx.divider(),
        _assign_form(),
        panel_id="exercises-panel",
    )

"""Scheduling a session, and the dialog that moves or cancels one."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import SessionSchedule
from kapjourney.services.plan import cancel_session, move_session, schedule_session
from kapjourney.services.validation import record_id
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import field, form_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import (
    NOT_FOUND,
    ROUTES,
    SETTINGS,
    STAFF,
    blank,
    dialog_buttons,
    form_dict,
    messages,
    radio_field,
    select_field,
)
from kapjourney.ui.pages.client_detail.plan_panel import PlanState

FIELDS = ("local_datetime", "route", "setting", "reason", "form")


def _schedule_data(data: dict[str, str]) -> SessionSchedule:
    return SessionSchedule(
        local_datetime=data.get("local_datetime", "")[:100],
        route=data.get("route", "")[:100],
        setting=data.get("setting", "")[:100],
    )


class SessionFormState(rx.State):
    schedule_errors: dict[str, str] = blank(FIELDS)
    schedule_key: int = 0  # a new key mounts an empty form after a session is scheduled
    dialog: str = ""  # "" | "move" | "cancel"
    title: str = ""
    value: str = ""
    route: str = ""
    setting: str = ""
    errors: dict[str, str] = blank(FIELDS)
    _session_id: int = 0

    @rx.event
    @authorized(*STAFF)
    async def schedule(self, form_data: dict):
        self.schedule_errors = blank(FIELDS)
        plan = await self.get_state(PlanState)
        try:
            view = await call_service(
                schedule_session,
                client_id=plan._client_id,
                data=_schedule_data(form_dict(form_data)),
            )
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.schedule_errors = messages(problem, FIELDS)
            return None
        plan._apply(view)
        self.schedule_key += 1
        return rx.toast.success("Session scheduled.")

    async def _open(self, dosing_session_id: object, mode: str) -> None:
        wanted = record_id(dosing_session_id)
        plan = await self.get_state(PlanState)
        row = next((s for s in plan.sessions if s.dosing_session_id == wanted), None)
        if row is None or not row.scheduled:
            return
        self._session_id = wanted
        self.errors = blank(FIELDS)
        self.title = f"Session {row.number}, {row.when}"
        self.value, self.route, self.setting = row.local_value, row.route, row.setting
        self.dialog = mode

    @rx.event
    @authorized(*STAFF)
    async def open_move(self, dosing_session_id: int):
        await self._open(dosing_session_id, "move")

    @rx.event
    @authorized(*STAFF)
    async def open_cancel(self, dosing_session_id: int):
        await self._open(dosing_session_id, "cancel")

    @rx.event
    @authorized(*STAFF)
    async def close_dialog(self, open: bool = False):
        if open is not True:
            self.dialog = ""

    async def _change(self, work, done: str, **kwargs):
        self.errors = blank(FIELDS)
        try:
            view = await call_service(work, dosing_session_id=self._session_id, **kwargs)
        except NotFound:
            self.dialog = ""
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = messages(problem, FIELDS)
            return None
        plan = await self.get_state(PlanState)
        plan._apply(view)
        self.dialog = ""
        return rx.toast.success(done)

    @rx.event
    @authorized(*STAFF)
    async def move(self, form_data: dict):
        data = _schedule_data(form_dict(form_data))
        return await self._change(move_session, "Session moved.", data=data)

    @rx.event
    @authorized(*STAFF)
    async def cancel(self, form_data: dict):
        reason = form_dict(form_data).get("reason", "")
        return await self._change(cancel_session, "Session cancelled.", reason=reason)


def _when_field(form: str, errors: rx.Var, **props) -> rx.Component:
    return field(
        "Date and time",
        name="local_datetime",
        form=form,
        type="datetime-local",
        error=errors["local_datetime"],
        **props,
    )


def schedule_form() -> rx.Component:
    errors = SessionFormState.schedule_errors
    return rx.form(
        rx.vstack(
            rx.heading("Schedule a session", size="3", as_="h3"),
            rx.text(
                "Times are in the client's time zone: ",
                rx.text.strong(PlanState.timezone),
                size="2",
                id="schedule-tz",
            ),
            form_error(errors["form"]),
            rx.grid(
                _when_field("schedule", errors),
                select_field(
                    "Route", name="route", form="schedule", options=ROUTES, error=errors["route"]
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            radio_field(
                "Setting",
                name="setting",
                form="schedule",
                options=SETTINGS,
                error=errors["setting"],
            ),
            rx.button(rx.icon("calendar-plus", size=16), "Schedule session", type="submit"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=SessionFormState.schedule,
        key=SessionFormState.schedule_key,
        id="schedule-form",
        no_validate=True,
        width="100%",
    )


def _move_form() -> rx.Component:
    errors = SessionFormState.errors
    return rx.form(
        rx.vstack(
            rx.text("Times are in the client's time zone: ", PlanState.timezone, size="2"),
            form_error(errors["form"]),
            _when_field("move", errors, default_value=SessionFormState.value),
            select_field(
                "Route",
                name="route",
                form="move",
                options=ROUTES,
                error=errors["route"],
                default_value=SessionFormState.route,
            ),
            radio_field(
                "Setting",
                name="setting",
                form="move",
                options=SETTINGS,
                error=errors["setting"],
                checked=SessionFormState.setting,
            ),
            dialog_buttons("Move session", confirm_id="move-confirm"),
            spacing="3",
            width="100%",
        ),
        on_submit=SessionFormState.move,
        id="move-form",
        no_validate=True,
    )


def _cancel_form() -> rx.Component:
    errors = SessionFormState.errors
    return rx.form(
        rx.vstack(
            rx.text("The client sees that the session is cancelled.", size="2"),
            form_error(errors["form"]),
            rx.el.label("Reason (optional)", html_for="cancel-reason", font_weight="500"),
            rx.text_area(
                id="cancel-reason",
                name="reason",
                max_length=500,
                rows="3",
                width="100%",
                aria_describedby="cancel-reason-error",
            ),
            rx.text(errors["reason"], id="cancel-reason-error", size="2", color_scheme="red"),
            dialog_actions(
                "Cancel session", confirm_id="cancel-confirm", alert=False, type="submit"
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=SessionFormState.cancel,
        id="cancel-form",
        no_validate=True,
    )


def session_dialog() -> rx.Component:
    moving = SessionFormState.dialog == "move"
    return dialog(
        rx.cond(moving, "Move ", "Cancel ") + SessionFormState.title,
        rx.cond(moving, _move_form(), _cancel_form()),
        open=SessionFormState.dialog != "",
        on_open_change=SessionFormState.close_dialog,
        description=rx.cond(
            moving,
            "Choose the new time. The preparation checklist moves with it.",
            "Cancelling cannot be undone; schedule a new session instead.",
        ),
        alert=False,
    )

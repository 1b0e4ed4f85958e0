"""The course plan: the next session's readiness light and the sessions table."""

from __future__ import annotations

import reflex as rx
from pydantic import BaseModel

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import PlanSessionView, PlanView, ReasonView
from kapjourney.services.plan import complete_session, get_plan
from kapjourney.services.validation import record_id
from kapjourney.ui.components.readiness import readiness_badge, readiness_reasons
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import NOT_FOUND, STAFF, panel

LIGHT_COLORS = (("green", "green"), ("amber", "amber"), ("red", "red"))


class SessionRow(BaseModel):
    """One row of the sessions table, flattened for the page."""

    dosing_session_id: int
    number: int
    when: str
    local_value: str
    route: str
    route_label: str
    setting: str
    setting_label: str
    status: str
    status_label: str
    is_next: bool
    level: str
    label: str
    steps: str
    scheduled: bool
    started: bool


def _row(s: PlanSessionView, tz: str) -> SessionRow:
    scheduled = s.status == "scheduled"
    return SessionRow(
        **s.model_dump(exclude={"readiness", "steps_done", "steps_total"}),
        level=s.readiness.level if s.readiness else "",
        label=s.readiness.label if s.readiness else "",
        steps=f"{s.steps_done} of {s.steps_total}" if s.steps_total else "—",
        scheduled=scheduled,
        started=s.can_complete,
    )


class PlanState(rx.State):
    timezone: str = ""
    sessions: list[SessionRow] = []
    has_next: bool = False
    next_title: str = ""
    next_level: str = ""
    next_label: str = ""
    next_reasons: list[ReasonView] = []
    _client_id: int = 0

    async def _refresh(self, client_id: int) -> PlanView:
        view = await call_service(get_plan, client_id=client_id)
        self._client_id = client_id
        self._apply(view)
        return view

    def _apply(self, view: PlanView) -> None:
        self.timezone = view.timezone
        self.sessions = [_row(s, view.timezone) for s in view.sessions]
        nxt = next((s for s in view.sessions if s.is_next and s.readiness), None)
        self.has_next = nxt is not None
        self.next_title = f"Session {nxt.number}, {nxt.when}" if nxt else ""
        self.next_level = nxt.readiness.level if nxt and nxt.readiness else ""
        self.next_label = nxt.readiness.label if nxt and nxt.readiness else ""
        self.next_reasons = list(nxt.readiness.reasons) if nxt and nxt.readiness else []

    @rx.event
    @authorized(*STAFF)
    async def complete(self, dosing_session_id: int):
        try:
            view = await call_service(
                complete_session, dosing_session_id=record_id(dosing_session_id)
            )
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values()), "Not possible."))
        self._apply(view)
        return rx.toast.success("Session marked done.")


def _light() -> rx.Component:
    return rx.box(
        width="36px",
        height="36px",
        border_radius="50%",
        flex_shrink="0",
        background_color=rx.match(
            PlanState.next_level,
            *[(level, rx.color(color, 9)) for level, color in LIGHT_COLORS],
            rx.color("gray", 6),
        ),
        box_shadow=f"0 0 0 4px {rx.color('gray', 3)}",
        aria_hidden="true",
    )


def readiness_panel() -> rx.Component:
    return panel(
        "Next session readiness",
        rx.cond(
            PlanState.has_next,
            rx.vstack(
                rx.hstack(
                    _light(),
                    rx.vstack(
                        readiness_badge(PlanState.next_level, PlanState.next_label, id="light"),
                        rx.text(PlanState.next_title, size="2", color_scheme="gray"),
                        spacing="1",
                    ),
                    spacing="3",
                    align="center",
                ),
                rx.cond(
                    PlanState.next_reasons.length() > 0,
                    readiness_reasons(PlanState.next_reasons, id="readiness-reasons"),
                    rx.text("Nothing is missing.", size="2", id="readiness-reasons"),
                ),
                spacing="3",
                width="100%",
            ),
            rx.text("No upcoming session is scheduled.", size="2", color_scheme="gray"),
        ),
        panel_id="readiness-panel",
    )


def _actions(row: SessionRow, on_checklist, on_move, on_cancel) -> rx.Component:
    label = "session " + row.number.to_string()
    return rx.cond(
        row.scheduled,
        rx.hstack(
            rx.button(
                "Checklist",
                size="1",
                variant="soft",
                on_click=on_checklist(row.dosing_session_id),
                aria_label="Checklist for " + label,
            ),
            rx.button(
                "Move",
                size="1",
                variant="soft",
                on_click=on_move(row.dosing_session_id),
                aria_label="Move " + label,
            ),
            rx.button(
                "Cancel",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=on_cancel(row.dosing_session_id),
                aria_label="Cancel " + label,
            ),
            rx.cond(
                row.started,
                rx.button(
                    "Mark done",
                    size="1",
                    on_click=PlanState.complete(row.dosing_session_id),
                    aria_label="Mark " + label + " done",
                ),
            ),
            spacing="2",
        ),
        rx.text("—", color_scheme="gray"),
    )


def sessions_table(on_checklist, on_move, on_cancel) -> rx.Component:
    def row(s: SessionRow) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(s.number.to_string()),
            rx.table.cell(rx.text(s.when, white_space="nowrap")),
            rx.table.cell(s.route_label),
            rx.table.cell(s.setting_label),
            rx.table.cell(s.status_label),
            rx.table.cell(rx.cond(s.level != "", readiness_badge(s.level, s.label), rx.text("—"))),
            rx.table.cell(s.steps),
            rx.table.cell(_actions(s, on_checklist, on_move, on_cancel)),
            data_session=s.dosing_session_id,
        )

    headers = ("#", "When", "Route", "Setting", "Status", "Readiness", "Steps done", "Actions")
    return rx.cond(
        PlanState.sessions.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(PlanState.sessions, row)),
                width="100%",
                variant="surface",
                size="1",
                min_width="900px",  # on a phone the table scrolls instead of squeezing rows
                id="sessions-table",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.text("No sessions yet.", size="2", color_scheme="gray"),
    )

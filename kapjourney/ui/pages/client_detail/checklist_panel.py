"""A session's preparation checklist as the care team sees it, with in-clinic recording."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import ValueKind
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ChecklistItemView, ChecklistView, ReasonView
from kapjourney.services.checklists import complete_item, get_checklist
from kapjourney.services.validation import record_id
from kapjourney.ui.components.fields import field, form_error
from kapjourney.ui.components.readiness import readiness_badge, readiness_reasons
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import (
    NOT_FOUND,
    STAFF,
    blank,
    form_dict,
    messages,
)
from kapjourney.ui.pages.client_detail.plan_panel import PlanState

VITALS = ("systolic", "diastolic", "pulse", "form")


class ChecklistState(rx.State):
    open: bool = False
    title: str = ""
    level: str = ""
    label: str = ""
    reasons: list[ReasonView] = []
    items: list[ChecklistItemView] = []
    progress: str = ""
    scheduled: bool = False
    vitals_item_id: int = 0
    errors: dict[str, str] = blank(VITALS)
    vitals_key: int = 0
    _dosing_session_id: int = 0

    def _apply(self, view: ChecklistView) -> None:
        self._dosing_session_id = view.dosing_session_id
        self.title = f"{view.title}: {view.when} · {view.setting_label} · {view.route_label}"
        self.level, self.label = view.readiness.level, view.readiness.label
        self.reasons = list(view.readiness.reasons)
        self.items = view.items
        self.progress = f"{view.done} of {view.total} steps done"
        self.scheduled = view.status == "scheduled"
        self.vitals_item_id = next(
            (i.item_id for i in view.items if i.value_kind == ValueKind.BLOOD_PRESSURE), 0
        )

    async def _after_change(self, view: ChecklistView) -> None:
        self._apply(view)
        plan = await self.get_state(PlanState)
        await plan._refresh(plan._client_id)

    @rx.event
    @authorized(*STAFF)
    async def open_checklist(self, dosing_session_id: int):
        try:
            view = await call_service(get_checklist, dosing_session_id=record_id(dosing_session_id))
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        self.errors = blank(VITALS)
        self._apply(view)
        self.open = True
        return None

    @rx.event
    @authorized(*STAFF)
    async def close(self, open: bool = False):
        if open is not True:
            self.open = False

    @rx.event
    @authorized(*STAFF)
    async def mark_done(self, item_id: int):
        """Tick a step without a value for the client (e.g. they confirmed it by phone)."""
        wanted = record_id(item_id)
        item = next((i for i in self.items if i.item_id == wanted), None)
        if item is None or item.value_kind != ValueKind.NONE:
            return rx.toast.error("That step needs the client's own answer.")
        try:
            view = await call_service(complete_item, item_id=wanted, values={})
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values()), "Not possible."))
        await self._after_change(view)
        return rx.toast.success("Step recorded for the client.")

    @rx.event
    @authorized(*STAFF)
    async def record_vitals(self, form_data: dict):
        self.errors = blank(VITALS)
        data = form_dict(form_data)
        values = {k: data.get(k, "")[:20] for k in VITALS[:3]}
        try:
            view = await call_service(complete_item, item_id=self.vitals_item_id, values=values)
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = messages(problem, VITALS)
            return None
        await self._after_change(view)
        self.vitals_key += 1
        return rx.toast.success("Blood pressure recorded.")


def _item(item: ChecklistItemView) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.cond(
                item.done,
                rx.icon("circle-check", size=18, color=rx.color("green", 11), aria_hidden="true"),
                rx.cond(
                    item.late,
                    rx.icon("clock-alert", size=18, color=rx.color("red", 11), aria_hidden="true"),
                    rx.icon("circle", size=18, color=rx.color("gray", 9), aria_hidden="true"),
                ),
            ),
            rx.vstack(
                rx.text(item.label, weight="medium", size="2"),
                rx.cond(
                    item.done,
                    rx.text(
                        "Done ",
                        item.done_at,
                        rx.cond(item.summary != "", " · " + item.summary, ""),
                        size="1",
                    ),
                    rx.text(
                        rx.cond(item.late, "Late: was due ", "Due "),
                        item.due,
                        size="1",
                        color_scheme=rx.cond(item.late, "red", "gray"),
                    ),
                ),
                spacing="0",
                flex="1",
            ),
            rx.cond(
                ~item.done & (item.value_kind == "none") & ChecklistState.scheduled,
                rx.button(
                    "Record as done",
                    size="1",
                    variant="soft",
                    on_click=ChecklistState.mark_done(item.item_id),
                    aria_label="Record as done for the client: " + item.label,
                ),
            ),
            spacing="2",
            align="start",
            width="100%",
        ),
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _vitals_form() -> rx.Component:
    errors = ChecklistState.errors
    numeric = {"input_mode": "numeric", "max_length": 4, "auto_complete": "off"}
    return rx.form(
        rx.vstack(
            rx.heading("Record blood pressure at arrival", size="3", as_="h3"),
            form_error(errors["form"]),
            rx.grid(
                field(
                    "Systolic (mmHg)",
                    name="systolic",
                    form="vitals",
                    error=errors["systolic"],
                    **numeric,
                ),
                field(
                    "Diastolic (mmHg)",
                    name="diastolic",
                    form="vitals",
                    error=errors["diastolic"],
                    **numeric,
                ),
                field(
                    "Pulse (beats/min)",
                    name="pulse",
                    form="vitals",
                    error=errors["pulse"],
                    **numeric,
                ),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="3",
                width="100%",
            ),
            rx.button("Save reading", type="submit", id="vitals-save"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=ChecklistState.record_vitals,
        key=ChecklistState.vitals_key,
        id="vitals-form",
        no_validate=True,
        width="100%",
    )


def checklist_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Preparation checklist"),
            rx.dialog.description(ChecklistState.title, size="2"),
            rx.vstack(
                rx.hstack(
                    readiness_badge(ChecklistState.level, ChecklistState.label),
                    rx.text(ChecklistState.progress, size="2"),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                readiness_reasons(ChecklistState.reasons),
                rx.el.ul(
                    rx.foreach(ChecklistState.items, _item),
                    list_style_type="none",
                    padding="0",
                    margin="0",
                    width="100%",
                    id="checklist-items",
                ),
                rx.cond(
                    ChecklistState.scheduled & (ChecklistState.vitals_item_id > 0),
                    _vitals_form(),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                margin_top="12px",
            ),
            max_width="640px",
            id="checklist-dialog",
        ),
        open=ChecklistState.open,
        on_open_change=ChecklistState.close,
    )

"""The client's alerts, open ones first: acknowledge, or resolve with what came of it and a note,
through the inbox's own service (so both places audit, check access and record the outcome the
same way); an escalated or reassigned alert says so."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import AlertRow
from kapjourney.services import inbox
from kapjourney.services.alerts import list_client_alerts
from kapjourney.services.validation import record_id
from kapjourney.ui.components.alert_badges import alert_badges
from kapjourney.ui.components.alert_resolve import (
    RESOLVE_FIELDS,
    assigned_line,
    escalated_badge,
    resolve_fields,
)
from kapjourney.ui.components.dialogs import dialog
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import (
    NOT_FOUND,
    STAFF,
    blank,
    clip,
    dialog_buttons,
    form_dict,
    messages,
    panel,
)
from kapjourney.ui.pages.client_detail.plan_panel import PlanState


class AlertsState(rx.State):
    rows: list[AlertRow] = []
    open_count: int = 0
    resolving: bool = False
    resolve_reason: str = ""
    errors: dict[str, str] = blank(RESOLVE_FIELDS)
    _client_id: int = 0
    _alert_id: int = 0

    async def _refresh(self, client_id: int) -> None:
        self.rows = await call_service(list_client_alerts, client_id=client_id)
        self._client_id = client_id
        self.open_count = sum(1 for r in self.rows if r.status != "resolved")

    async def _after_change(self) -> None:
        await self._refresh(self._client_id)
        plan = await self.get_state(PlanState)
        await plan._refresh(plan._client_id)

    @rx.event
    @authorized(*STAFF)
    async def acknowledge(self, alert_id: int):
        try:
            await call_service(inbox.acknowledge, alert_id=record_id(alert_id))
            await self._after_change()
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        return rx.toast.success("Alert acknowledged.")

    @rx.event
    @authorized(*STAFF)
    async def open_resolve(self, alert_id: int):
        row = next((r for r in self.rows if r.alert_id == record_id(alert_id)), None)
        if row is None or row.status == "resolved":
            return
        self._alert_id = row.alert_id
        self.resolve_reason = row.reason
        self.errors = blank(RESOLVE_FIELDS)
        self.resolving = True

    @rx.event
    @authorized(*STAFF)
    async def close_resolve(self, open: bool = False):
        if open is not True:
            self.resolving = False

    @rx.event
    @authorized(*STAFF)
    async def resolve(self, form_data: dict):
        self.errors = blank(RESOLVE_FIELDS)
        data = form_dict(form_data)
        try:
            await call_service(
                inbox.resolve,
                alert_id=self._alert_id,
                note=clip(data.get("note", ""), 2_000),
                outcome=clip(data.get("outcome", ""), 40),
            )
            await self._after_change()
        except NotFound:
            self.resolving = False
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = messages(problem, RESOLVE_FIELDS)
            return None
        self.resolving = False
        return rx.toast.success("Alert resolved.")


def _alert(row: AlertRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    alert_badges(row.severity, row.status),
                    escalated_badge(row.escalated),
                    rx.text(row.created, size="1", color_scheme="gray"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(row.reason, size="2"),
                assigned_line(row.assigned_to),
                spacing="1",
                flex="1",
                min_width="200px",
            ),
            rx.cond(
                row.status != "resolved",
                rx.hstack(
                    rx.cond(
                        row.status == "open",
                        rx.button(
                            "Acknowledge",
                            size="1",
                            variant="soft",
                            on_click=AlertsState.acknowledge(row.alert_id),
                        ),
                    ),
                    rx.button("Resolve", size="1", on_click=AlertsState.open_resolve(row.alert_id)),
                    spacing="2",
                ),
            ),
            spacing="3",
            align="start",
            wrap="wrap",
            width="100%",
        ),
        padding="10px",
        border_radius="8px",
        border=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.cond(row.status == "resolved", "transparent", rx.color("red", 2)),
        width="100%",
        data_status=row.status,
        class_name="kj-alert",
    )


def _resolve_dialog() -> rx.Component:
    return dialog(
        "Resolve alert",
        rx.form(
            rx.vstack(
                resolve_fields(
                    form="resolve", errors=AlertsState.errors, outcomes=inbox.OUTCOMES.items()
                ),
                dialog_buttons("Resolve alert", confirm_id="resolve-confirm"),
                spacing="2",
                width="100%",
            ),
            on_submit=AlertsState.resolve,
            no_validate=True,
        ),
        open=AlertsState.resolving,
        on_open_change=AlertsState.close_resolve,
        description=AlertsState.resolve_reason,
        alert=False,
    )


def alerts_panel() -> rx.Component:
    return panel(
        "Alerts",
        rx.cond(
            AlertsState.rows.length() > 0,
            rx.vstack(
                rx.text(AlertsState.open_count.to_string(), " open", size="2", id="alerts-open"),
                rx.foreach(AlertsState.rows, _alert),
                spacing="2",
                width="100%",
            ),
            rx.text("No alerts.", size="2", color_scheme="gray"),
        ),
        _resolve_dialog(),
        panel_id="alerts-panel",
    )

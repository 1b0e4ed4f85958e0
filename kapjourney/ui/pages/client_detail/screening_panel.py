"""Screening for the care team: scores with bands and sources, flags for review, actions."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ScreeningResultRow, ScreeningSummary
from kapjourney.services.screening import (
    request_rescreen,
    review_screening,
    screening_summary,
    set_pcl5,
)
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import NOT_FOUND, STAFF, panel
from kapjourney.ui.pages.client_detail.plan_panel import PlanState

WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")  # a phone has no room for the date


class ScreeningPanelState(rx.State):
    results: list[ScreeningResultRow] = []
    flags: list[str] = []
    medicines: str = ""
    complete: bool = False
    reviewed: bool = False
    reviewed_at: str = ""
    pcl5_enabled: bool = False
    missing: list[str] = []
    _client_id: int = 0

    def _apply(self, view: ScreeningSummary) -> None:
        self.results = view.results
        self.flags = view.flags
        self.medicines = view.medicines
        self.complete, self.reviewed = view.complete, view.reviewed
        self.reviewed_at = view.reviewed_at
        self.pcl5_enabled = view.pcl5_enabled
        self.missing = view.missing

    async def _refresh(self, client_id: int) -> None:
        self._apply(await call_service(screening_summary, client_id=client_id))
        self._client_id = client_id

    async def _act(self, work, done: str, **kwargs):
        try:
            view = await call_service(work, client_id=self._client_id, **kwargs)
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values()), "Not possible."))
        self._apply(view)
        plan = await self.get_state(PlanState)
        await plan._refresh(plan._client_id)
        return rx.toast.success(done)

    @rx.event
    @authorized(*STAFF)
    async def mark_reviewed(self):
        return await self._act(review_screening, "Screening marked reviewed.")

    @rx.event
    @authorized(*STAFF)
    async def rescreen(self):
        return await self._act(request_rescreen, "Re-screening requested from the client.")

    @rx.event
    @authorized(*STAFF)
    async def toggle_pcl5(self, enabled: bool):
        on = enabled is True
        return await self._act(set_pcl5, "PCL-5 added." if on else "PCL-5 removed.", enabled=on)


def _result(row: ScreeningResultRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text(row.title, weight="medium", size="2"),
            rx.text("Source: ", row.source, size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.cond(row.score != "", row.score, "—")),
        rx.table.cell(rx.cond(row.band != "", rx.badge(row.band, high_contrast=True), "—")),
        rx.table.cell(row.submitted, display=WIDE_ONLY),
    )


def _results() -> rx.Component:
    return rx.cond(
        ScreeningPanelState.results.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Questionnaire"),
                        rx.table.column_header_cell("Score"),
                        rx.table.column_header_cell("Band"),
                        rx.table.column_header_cell("Submitted", display=WIDE_ONLY),
                    )
                ),
                rx.table.body(rx.foreach(ScreeningPanelState.results, _result)),
                size="1",
                width="100%",
                id="screening-results",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.text("No questionnaires submitted yet.", size="2", color_scheme="gray"),
    )


def _flags() -> rx.Component:
    return rx.vstack(
        rx.heading("Flags for review", size="3", as_="h3"),
        rx.text(
            "Flags are for your clinical review, never an automatic rejection.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            ScreeningPanelState.flags.length() > 0,
            rx.el.ul(
                rx.foreach(
                    ScreeningPanelState.flags,
                    lambda flag: rx.el.li(rx.text(flag, size="2")),
                ),
                padding_left="20px",
                margin="0",
                id="screening-flags",
            ),
            rx.text("None.", size="2"),
        ),
        rx.heading("Medicines", size="3", as_="h3"),
        rx.text(
            rx.cond(
                ScreeningPanelState.medicines != "", ScreeningPanelState.medicines, "None listed."
            ),
            size="2",
            white_space="pre-wrap",
            overflow_wrap="anywhere",  # one unbroken 2,000-character answer stays in the card
            id="screening-medicines",
        ),
        spacing="2",
        width="100%",
    )


def _status() -> rx.Component:
    return rx.cond(
        ScreeningPanelState.reviewed,
        rx.badge(
            "Reviewed ",
            ScreeningPanelState.reviewed_at,
            color_scheme="green",
            high_contrast=True,
            size="2",
            id="screening-status",
        ),
        rx.cond(
            ScreeningPanelState.complete,
            rx.badge(
                "Complete: waiting for your review",
                color_scheme="amber",
                high_contrast=True,
                size="2",
                id="screening-status",
            ),
            rx.badge(
                "Not complete: ",
                ScreeningPanelState.missing.join(", "),
                " to do",
                color_scheme="gray",
                high_contrast=True,
                size="2",
                white_space="normal",
                id="screening-status",
            ),
        ),
    )


def screening_panel() -> rx.Component:
    return panel(
        "Screening",
        _status(),
        _results(),
        _flags(),
        rx.hstack(
            rx.switch(
                checked=ScreeningPanelState.pcl5_enabled,
                on_change=ScreeningPanelState.toggle_pcl5,
                id="pcl5-switch",
            ),
            rx.el.label("Ask for the PCL-5 (trauma) questionnaire", html_for="pcl5-switch"),
            spacing="2",
            align="center",
        ),
        rx.hstack(
            rx.cond(
                ScreeningPanelState.complete & ~ScreeningPanelState.reviewed,
                rx.button(
                    rx.icon("clipboard-check", size=16),
                    "Mark screening reviewed",
                    on_click=ScreeningPanelState.mark_reviewed,
                    id="review-screening",
                ),
            ),
            rx.button(
                "Request re-screening",
                variant="soft",
                on_click=ScreeningPanelState.rescreen,
                id="request-rescreen",
            ),
            spacing="2",
            wrap="wrap",
        ),
        panel_id="screening-panel",
    )

"""After-session symptom reports, as the care team reads them: grade, triage, readings."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import SymptomReportRow
from kapjourney.services.symptoms import list_reports
from kapjourney.ui.guard import call_service
from kapjourney.ui.pages.client_detail.common import panel

TRIAGE_COLORS = (("emergency", "red"), ("urgent", "red"), ("routine", "amber"))


class ReportsPanelState(rx.State):
    rows: list[SymptomReportRow] = []

    async def _refresh(self, client_id: int) -> None:
        # Newest first; the service authorizes the actor for this client.
        self.rows = await call_service(list_reports, client_id=client_id)


def _report(row: SymptomReportRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(
                "Session ",
                row.session_number.to_string(),
                " · ",
                row.offset_label,
                weight="medium",
                size="2",
            ),
            rx.cond(
                row.triage != "none",
                rx.badge(
                    row.triage,
                    color_scheme=rx.match(row.triage, *TRIAGE_COLORS, "gray"),
                    high_contrast=True,
                ),
            ),
            rx.badge(row.max_grade_label, variant="outline", high_contrast=True),
            rx.spacer(),
            rx.text(row.date, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            row.status == "Sent",
            rx.vstack(
                rx.cond(
                    row.present.length() > 0,
                    rx.el.ul(
                        rx.foreach(row.present, lambda p: rx.el.li(rx.text(p, size="2"))),
                        padding_left="18px",
                        margin="0",
                    ),
                    rx.text("Nothing reported.", size="2", color_scheme="gray"),
                ),
                rx.cond(row.vitals != "", rx.text("Reading: ", row.vitals, size="2")),
                rx.cond(
                    row.note != "",
                    rx.text("Note: ", row.note, size="2", white_space="pre-wrap"),
                ),
                spacing="1",
                margin_top="4px",
            ),
            rx.text(row.status, size="2", color_scheme="gray"),
        ),
        padding="10px",
        border_radius="8px",
        border=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        class_name="kj-report",
    )


def reports_panel() -> rx.Component:
    return panel(
        "After-session reports",
        rx.cond(
            ReportsPanelState.rows.length() > 0,
            rx.vstack(
                rx.foreach(ReportsPanelState.rows, _report),
                spacing="2",
                width="100%",
                max_height="520px",
                overflow_y="auto",
                # A scrolling list must be reachable by keyboard (axe: scrollable-region-focusable).
                tab_index=0,
                role="region",
                aria_label="After-session reports, newest first",
            ),
            rx.text("No reports yet.", size="2", color_scheme="gray"),
        ),
        rx.text(
            "Grades are CTCAE-like, from the client's own words (PRO-CTCAE). They prompt a "
            "conversation; they are not a diagnosis.",
            size="1",
            color_scheme="gray",
        ),
        panel_id="reports-panel",
    )

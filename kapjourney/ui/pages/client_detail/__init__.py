"""A client's page for their care team: readiness, alerts, course plan, consent and screening.

Each panel has its own small state beside its builders; ``ClientDetailState.load`` reads the
client id from the URL and fills them all, or shows "Client not found" (also for ids the actor
may not see, so existence is never revealed).
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.errors import NotFound
from kapjourney.routes import CLIENT_DETAIL, CLINICIAN_HOME
from kapjourney.services.validation import record_id
from kapjourney.ui.guard import authorized
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.pages.client_detail.alerts_panel import AlertsState, alerts_panel
from kapjourney.ui.pages.client_detail.charts_panel import ChartsPanelState, charts_panel
from kapjourney.ui.pages.client_detail.checklist_panel import ChecklistState, checklist_dialog
from kapjourney.ui.pages.client_detail.common import STAFF, panel
from kapjourney.ui.pages.client_detail.consent_panel import ConsentPanelState, consent_panel
from kapjourney.ui.pages.client_detail.exercises_panel import ExercisesPanelState, exercises_panel
from kapjourney.ui.pages.client_detail.exports_panel import ExportsPanelState, exports_panel
from kapjourney.ui.pages.client_detail.history_panel import HistoryPanelState, history_panel
from kapjourney.ui.pages.client_detail.plan_panel import (
    PlanState,
    readiness_panel,
    sessions_table,
)
from kapjourney.ui.pages.client_detail.reminders_panel import RemindersPanelState, reminders_panel
from kapjourney.ui.pages.client_detail.reports_panel import ReportsPanelState, reports_panel
from kapjourney.ui.pages.client_detail.safety_plan_panel import (
    SafetyPlanPanelState,
    safety_plan_panel,
)
from kapjourney.ui.pages.client_detail.screening_panel import ScreeningPanelState, screening_panel
from kapjourney.ui.pages.client_detail.session_forms import (
    SessionFormState,
    schedule_form,
    session_dialog,
)
from kapjourney.ui.session_state import remember

PANELS = (PlanState, AlertsState, ConsentPanelState, ScreeningPanelState)
PANELS += (SafetyPlanPanelState, ExercisesPanelState, ReportsPanelState)  # issue 4
PANELS += (RemindersPanelState,)  # issue 5: are reminders reaching them?
PANELS += (ExportsPanelState,)  # issue 6: export links (no service call; the routes authorize)
PANELS += (HistoryPanelState,)  # issue 6: one timeline of everything recorded
PANELS += (ChartsPanelState,)  # issue 6: charts and per-session outcomes
RESET_ON_LOAD = (*PANELS, SessionFormState, ChecklistState)


class ClientDetailState(rx.State):
    client_name: str = ""
    timezone: str = ""
    loaded: bool = False
    not_found: bool = False

    @rx.event
    @authorized(*STAFF)
    async def load(self):
        await remember(self)
        self.loaded = self.not_found = False
        for cls in RESET_ON_LOAD:
            (await self.get_state(cls)).reset()
        client_id = record_id(str(self.router.page.params.get("client_id", "")))
        try:
            plan = await (await self.get_state(PlanState))._refresh(client_id)
            for cls in PANELS[1:]:
                await (await self.get_state(cls))._refresh(client_id)
        except NotFound:
            for cls in RESET_ON_LOAD:
                (await self.get_state(cls)).reset()
            self.not_found = True
        else:
            self.client_name, self.timezone = plan.client_name, plan.timezone
        self.loaded = True


def _not_found() -> rx.Component:
    return rx.callout(
        "Client not found. They may not be in your care, or the link is wrong.",
        icon="search-x",
        color_scheme="gray",
        high_contrast=True,
        id="client-not-found",
        width="100%",
    )


def _details() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading(ClientDetailState.client_name, size="7", as_="h1", id="client-name"),
            rx.text(
                "Times are in the client's time zone: ",
                ClientDetailState.timezone,
                size="2",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        rx.grid(
            readiness_panel(),
            alerts_panel(),
            columns=rx.breakpoints(initial="1", md="2"),
            align="start",
            spacing="4",
            width="100%",
        ),
        panel(
            "Course plan",
            sessions_table(
                ChecklistState.open_checklist,
                SessionFormState.open_move,
                SessionFormState.open_cancel,
            ),
            rx.divider(),
            schedule_form(),
            panel_id="plan-panel",
        ),
        charts_panel(),  # issue 6: charts and per-session outcomes
        rx.grid(
            consent_panel(),
            screening_panel(),
            columns=rx.breakpoints(initial="1", md="2"),
            align="start",
            spacing="4",
            width="100%",
        ),
        reports_panel(),
        history_panel(),  # issue 6: the timeline
        rx.grid(  # issue 4: the safety plan and integration exercises
            safety_plan_panel(),
            exercises_panel(),
            columns=rx.breakpoints(initial="1", md="2"),
            align="start",
            spacing="4",
            width="100%",
        ),
        reminders_panel(),  # issue 5
        exports_panel(),  # issue 6: CSV, FHIR and PDF downloads
        session_dialog(),
        checklist_dialog(),
        spacing="4",
        width="100%",
    )


@clinician_page(CLIENT_DETAIL, "Client", on_load=ClientDetailState.load)
def client_detail_page() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=16), "All clients", spacing="1", align="center"),
            href=CLINICIAN_HOME,
            size="2",
        ),
        rx.cond(
            ClientDetailState.loaded,
            rx.cond(ClientDetailState.not_found, _not_found(), _details()),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
        spacing="3",
        width="100%",
    )

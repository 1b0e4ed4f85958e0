"""The client's plan: the course as a timeline, each session with its readiness, and what now."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import PlanSessionView, PlanStepView, ReasonView
from kapjourney.routes import PLAN, TODAY, prepare_url
from kapjourney.services.plan import get_plan
from kapjourney.ui.components.choices import loading
from kapjourney.ui.components.readiness import readiness_badge, readiness_reasons
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember


@dataclass
class SessionRow:
    """A plan session flattened for the screen (readiness only for scheduled ones)."""

    number: int = 0
    when: str = ""
    how: str = ""
    status: str = ""
    status_label: str = ""
    is_next: bool = False
    level: str = ""
    label: str = ""
    reasons: list[ReasonView] = field(default_factory=list)
    steps: str = ""
    href: str = ""


def session_row(s: PlanSessionView) -> SessionRow:
    ready = s.readiness
    return SessionRow(
        number=s.number,
        when=s.when,
        how=f"{s.route_label} · {s.setting_label}",
        status=s.status,
        status_label="Next" if s.is_next else s.status_label,
        is_next=s.is_next,
        level=ready.level if ready else "",
        label=ready.label if ready else "",
        reasons=list(ready.reasons) if ready and s.is_next else [],
        steps=f"{s.steps_done} of {s.steps_total} steps done" if s.steps_total else "",
        href=prepare_url(s.dosing_session_id) if s.status == "scheduled" else "",
    )


class PlanState(rx.State):
    loaded: bool = False
    has_course: bool = False
    planned: int = 0
    done: int = 0
    stages: list[PlanStepView] = []
    sessions: list[SessionRow] = []
    next_action: str = ""
    next_action_href: str = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        view = await call_service(get_plan)
        self.has_course = view.has_course
        self.planned, self.done = view.planned, view.done
        self.stages = view.stages
        self.sessions = [session_row(s) for s in view.sessions]
        self.next_action, self.next_action_href = view.next_action, view.next_action_href
        self.loaded = True


def _stage(step: PlanStepView) -> rx.Component:
    color = rx.match(step.state, ("done", "green"), ("current", "indigo"), "gray")
    return rx.el.li(
        rx.hstack(
            rx.match(
                step.state,
                (
                    "done",
                    rx.icon("circle-check", size=22, color=rx.color("green", 11), flex_shrink="0"),
                ),
                (
                    "current",
                    rx.icon("circle-dot", size=22, color=rx.color("indigo", 11), flex_shrink="0"),
                ),
                rx.icon("circle", size=22, color=rx.color("gray", 9), flex_shrink="0"),
            ),
            rx.vstack(
                rx.text(step.label, weight="bold", size="3"),
                rx.text(step.detail, size="2", color_scheme="gray"),
                spacing="0",
            ),
            rx.spacer(),
            rx.badge(
                rx.match(step.state, ("done", "Done"), ("current", "Now"), "Later"),
                color_scheme=color,
                high_contrast=True,
            ),
            spacing="3",
            align="center",
            width="100%",
        ),
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="plan-stage",
    )


def _session(row: SessionRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Session ", row.number.to_string(), size="4", as_="h3"),
                rx.spacer(),
                rx.badge(
                    row.status_label,
                    color_scheme=rx.match(
                        row.status,
                        ("completed", "green"),
                        ("cancelled", "gray"),
                        ("scheduled", rx.cond(row.is_next, "indigo", "blue")),
                        "gray",
                    ),
                    high_contrast=True,
                ),
                width="100%",
                align="center",
            ),
            rx.text(
                row.when,
                size="3",
                text_decoration=rx.cond(row.status == "cancelled", "line-through", "none"),
            ),
            rx.text(row.how, size="2", color_scheme="gray"),
            rx.cond(
                row.level != "",
                rx.vstack(
                    readiness_badge(row.level, row.label),
                    readiness_reasons(row.reasons),
                    rx.cond(row.steps != "", rx.text(row.steps, size="2", color_scheme="gray")),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.cond(
                row.href != "",
                rx.link(
                    "Prepare for session " + row.number.to_string(),
                    href=row.href,
                    weight="medium",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="plan-session",
        data_status=row.status,
    )


def _next_action() -> rx.Component:
    return rx.cond(
        PlanState.next_action != "",
        rx.card(
            rx.vstack(
                rx.text("What to do now", size="2", weight="medium", color_scheme="gray"),
                rx.link(
                    rx.button(
                        PlanState.next_action,
                        rx.icon("arrow-right", size=18, aria_hidden="true"),
                        size="3",
                        width="100%",
                    ),
                    href=PlanState.next_action_href,
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="next-action",
        ),
    )


@client_page(PLAN, "Your plan", on_load=PlanState.load)
def plan_page() -> rx.Component:
    return rx.cond(
        PlanState.loaded,
        rx.vstack(
            rx.heading("Your plan", size="7", as_="h1"),
            _next_action(),
            rx.heading("Your course", size="5", as_="h2"),
            rx.el.ol(
                rx.foreach(PlanState.stages, _stage),
                list_style_type="none",
                padding="0",
                margin="0",
                width="100%",
                id="plan-stages",
            ),
            rx.heading("Dosing sessions", size="5", as_="h2"),
            rx.cond(
                PlanState.sessions.length() > 0,
                rx.vstack(
                    rx.text(
                        PlanState.done.to_string(),
                        " of ",
                        PlanState.planned.to_string(),
                        " sessions done",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.foreach(PlanState.sessions, _session),
                    spacing="3",
                    width="100%",
                    id="plan-sessions",
                ),
                rx.text(
                    "No sessions are scheduled yet. Your clinic will add them here.",
                    size="2",
                    color_scheme="gray",
                    id="plan-sessions",
                ),
            ),
            rx.link("Back to Today", href=TODAY, weight="medium"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )
